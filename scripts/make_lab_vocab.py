"""Write ``uim_utils/data/lab_vocab.json``: every open_clip token the lab's text can use.

The lab's captions and prompts are built from pseudo-word names (two or three syllables
of :data:`uim_utils.world.NAME_SYLLABLES`) and the fixed caption and prompt templates.
This script tokenises every possible name and every template with open_clip's own BPE
tokenizer and keeps the token ids that occur (about 3,400 of its 49,408). A lab model
with the compact vocabulary (:class:`uim_utils.models.LabTokenizer`) then embeds 3,400
tokens instead of 49,408: 93% fewer parameters and a much cheaper optimizer step, with
the same tokenisation of every lab caption.

Run it only if the world's syllables or templates change (about 30 s):
``.venv/bin/python scripts/make_lab_vocab.py``; ``tests/test_models.py`` checks the
shipped file against a sample of names and all templates.
"""

from __future__ import annotations

import json
from pathlib import Path

from uim_utils.models import LAB_VOCAB_PATH, base_tokenizer, lab_text_token_ids


def main() -> None:
    ids = lab_text_token_ids(base_tokenizer())
    payload = {
        "about": "open_clip SimpleTokenizer ids used by the lab's names and templates "
                 "(scripts/make_lab_vocab.py)",
        "token_ids": ids,
    }
    Path(LAB_VOCAB_PATH).write_text(json.dumps(payload) + "\n")
    print(f"wrote {len(ids)} token ids to {LAB_VOCAB_PATH}")


if __name__ == "__main__":
    main()
