"""The app's engine services, each usable (and testable) without Gradio or visitors:
:mod:`rlhf.services.datasets` (references, uploads, record counts, descriptions), :mod:`rlhf.services.preview`
(prepared rows, counts, drops, token statistics), :mod:`rlhf.services.runs` (RunConfigs from plain settings, their
resolved plans, start / stop / resume / status over the RunManager) and :mod:`rlhf.services.inference` (chat,
score and token counts, with their model caches). :class:`rlhf.ui.api.Api` adds visitors, ownership, the public
mode's restrictions and the references a visitor may give; the tabs and endpoints add the messages."""
