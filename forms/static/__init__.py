"""Browser assets: ``branching.js``, served from ``forms.static_dir()``."""
