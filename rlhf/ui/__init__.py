"""The Gradio app: one module per tab plus the wiring; it calls :mod:`rlhf` and shows what comes back.

Import cost matters here (``python app.py`` must serve within seconds on a small machine), so nothing in this
package imports torch, transformers or datasets at import time: the engine functions import them when a
handler first needs them. See :mod:`rlhf.ui.app` for the layout and :mod:`rlhf.ui.api` for the endpoints.
"""
