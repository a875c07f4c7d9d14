"""The Guacamole desktop protocol: the default remote-desktop relay to guacd on the instance."""
