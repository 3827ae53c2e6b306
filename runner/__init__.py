"""wf: a Markdown-driven workflow runner.

Documents in ``workflows/<set>/NN_slug.md`` are the single source of truth; the runner
parses them, plans every file they produce, writes ``sdlc/<set>/NN-slug/...`` and verifies
that the committed tree and the documents agree.
"""

__version__ = "0.1.0"
