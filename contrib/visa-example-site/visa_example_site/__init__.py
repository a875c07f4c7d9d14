"""An example facility plugin for visa-platform."""
