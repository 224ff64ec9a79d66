"""Presentation of a :class:`~memplan.plan.Plan`: text, SVG, HTML (and other formats).

Renderers decide nothing; they only format what the plan says.
"""
