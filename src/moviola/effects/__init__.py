"""One module per effect. Each module registers its Effect subclass with
``moviola.pipeline.register``; the registry imports every module here."""
