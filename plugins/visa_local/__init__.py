"""The ``local`` compute backend: instances as virtual desktops (TigerVNC) on this host."""
