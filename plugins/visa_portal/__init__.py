"""A minimal portal page for the embedded defaults: sign in, manage instances, open desktops."""
