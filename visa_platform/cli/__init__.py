"""The ``visa`` command: serve, db, plugins, config, plus commands contributed by plugins."""
