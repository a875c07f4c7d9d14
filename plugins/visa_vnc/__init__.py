"""The ``vnc`` desktop protocol: RFB between noVNC in the browser and a VNC server."""
