"""Fit the SVG that Graphviz draws to the RFC 7996 SVG profile that xml2rfc v3 accepts.

This module owns the one post-processing step every SVG figure goes through (`conform`)
and the profile facts it relies on.  RFC 7996 (SVG drawings for RFCs: SVG 1.2 RFC) allows
a subset of SVG Tiny 1.2: a short list of elements, the generic font families only
(serif, sans-serif, monospace) and no colour but black and white.  Graphviz writes a
DOCTYPE naming the SVG 1.1 DTD (which an offline checker cannot load), comments, and font
lists such as "Helvetica,sans-Serif" (the face it measured text with, then the generic
fall-back), and `stroke="none"`, which the profile's schema in xml2rfc (SVG-1.2-RFC.rng)
rejects although "none" is what an unset stroke is.  `conform` drops the DOCTYPE, the
comments and every `stroke="none"` that nothing above it overrides, and keeps each font
list's generic family.  Graphviz numbers its ids per drawing (graph0, node1, edge1), which
collide once a draft holds two figures, so each id gets the figure's name in front.  A
colour other than black or white, or an element outside the profile,
means the DOT asked for something the profile cannot show, which is a DiagramError, not
something to paint over: render_dot.py draws emphasis with line width and dashes instead.
The IETF's `svgcheck` (a test tool) is what the tests hold every SVG to.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .forms import DiagramError

SVG_NS = "http://www.w3.org/2000/svg"
XML_NS = "http://www.w3.org/XML/1998/namespace"
ELEMENTS = frozenset({
    "svg", "g", "title", "desc", "path", "rect", "circle", "line", "ellipse", "polyline",
    "polygon", "text", "tspan",
})
"""The elements of RFC 7996 a Graphviz drawing can use (no <a>, <image>, <defs>)."""
COLOURS = frozenset({"black", "white", "#000000", "#ffffff", "none"})
"""The paint values of RFC 7996 (black and white; none for no paint, as a fill)."""
GENERIC_FONTS = ("sans-serif", "serif", "monospace")
FACES = {"helvetica": "sans-serif", "arial": "sans-serif", "courier": "monospace",
         "times": "serif", "times-roman": "serif"}
"""Graphviz's built-in faces, for a font list that names no generic family."""
PAINT = ("fill", "stroke", "color")


def generic_font(value: str) -> str:
    """The generic family of a font list: the first generic name in it, else the family
    of its first face."""
    names = [n.strip().strip("'\"").lower() for n in value.split(",")]
    for name in names:
        if name in GENERIC_FONTS:
            return name
    if names and names[0] in FACES:
        return FACES[names[0]]
    raise DiagramError(f"font {value!r} has no generic family in the RFC 7996 profile")


def _local(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return None, tag


def _fix(element: ET.Element, where: str, stroked: bool = False) -> None:
    """Fix `element` and what is inside it in place (`where` is the figure's name);
    `stroked`: an ancestor sets a stroke (so a `stroke="none"` here means something)."""
    ns, name = _local(element.tag)
    if ns != SVG_NS or name not in ELEMENTS:
        raise DiagramError(f"{where}: element <{name}> is not in the RFC 7996 profile")
    for key, value in list(element.attrib.items()):
        attr_ns, attr = _local(key)
        if attr_ns not in (None, XML_NS):
            raise DiagramError(f"{where}: attribute {attr!r} of <{name}> is in namespace "
                               f"{attr_ns}, not allowed by RFC 7996")
        if attr == "id" and attr_ns is None:
            element.set(key, f"{where}-{value}")
        elif attr == "font-family":
            element.set(key, generic_font(value))
        elif attr in PAINT and value.lower() not in COLOURS:
            raise DiagramError(f"{where}: <{name} {attr}={value!r}> is a colour; RFC 7996 "
                               "allows black and white only")
        elif attr == "style":
            raise DiagramError(f"{where}: <{name}> has a style attribute (CSS)")
    if element.get("stroke") == "none":
        if stroked:
            raise DiagramError(f"{where}: <{name} stroke='none'> inside a stroked group "
                               "cannot be written in the RFC 7996 schema")
        del element.attrib["stroke"]
    stroked = stroked or "stroke" in element.attrib
    if len(element) and not (element.text or "").strip():
        element.text = "\n"
    for child in element:
        _fix(child, where, stroked)
        if not (child.tail or "").strip():
            child.tail = "\n"


def conform(svg: bytes, name: str) -> bytes:
    """`svg` (as Graphviz wrote it for figure `name`) in the RFC 7996 profile: no DOCTYPE,
    no comments (nor the blank lines they would leave), generic font families, ids
    prefixed with `name`; DiagramError if it draws in a colour or uses an element the
    profile lacks."""
    if not name or not (name[0].isalpha() and name.replace("-", "").replace("_", "").isalnum()):
        raise DiagramError(f"figure name {name!r} cannot start an XML id")
    ET.register_namespace("", SVG_NS)
    try:
        root = ET.fromstring(svg)
    except ET.ParseError as err:
        raise DiagramError(f"{name}: not XML ({err})") from None
    _fix(root, name)
    body = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode()

