"""The pytest-free core: the options table, the providers, HTTP, the wait loop, the models and
the rendering of results as text. Nothing here imports pytest: the pytest plugin and
``qatech-junit`` are two front ends over it."""
