"""The app's engine services, each usable (and testable) without Gradio: :mod:`rlhf.services.inference` (chat,
score and token counts, with their model caches). :class:`rlhf.ui.api.Api` adds visitors, ownership and the
references a visitor may give, and the tabs and endpoints add the messages."""
