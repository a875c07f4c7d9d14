"""The ``webx`` desktop protocol: the WebX Router and engines on the instance, over ZeroMQ."""
