"""What memplan knows about the kernel, by version: rules (:mod:`~memplan.kernel.rules`), boot events
(:mod:`~memplan.kernel.events`) and their log messages (:mod:`~memplan.kernel.messages`).

This package sits below the resolver, the renderers and the observer: all of them read it, and it
imports nothing from them.
"""
