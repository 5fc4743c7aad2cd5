"""The settings: their shape and checks, section by section (settings.py), reading the
TOML file with environment overrides (file.py, env.py), and checks of single values
several sections share (values.py).

May import: jql, errors.
"""
