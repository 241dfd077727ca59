"""htflame: a flame graph (SVG) of folded stacks.

Folded stacks are lines 'frame;frame;...;leaf count', the form that
Brendan Gregg's flamegraph.pl and inferno read.  Debian 12 packages
neither, so this draws the same picture: the root at the bottom, each
frame as wide as its share of the samples, children in name order, every
frame's name, count and share in its tooltip.
"""

import zlib
from xml.sax.saxutils import escape

import htprofile

WIDTH = 1200
MARGIN = 10
ROW_PX = 17
FONT_PX = 11
CHAR_PX = 6.7           # advance of an 11 px monospace glyph
MIN_PX = 0.5            # narrower frames are left out: their parent has them


class Node:
    def __init__(self, name):
        self.name, self.count, self.children = name, 0, {}

    def child(self, name):
        if name not in self.children:
            self.children[name] = Node(name)
        return self.children[name]

    def depth(self):
        return 1 + max((c.depth() for c in self.children.values()), default=0)


def parse_folded(lines):
    """The tree of 'a;b;c N' lines.  ValueError names a malformed line."""
    root = Node("all")
    for n, line in enumerate(lines, 1):
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            raise ValueError("line %d is not 'frame;...;frame count': %r"
                             % (n, line))
        root.count += int(count)
        node = root
        for name in stack.split(";"):
            node = node.child(name)
            node.count += int(count)
    return root


def colour(name, depth):
    """Warm hues for functions, stable per name; phases (depth 1) cool;
    addresses without a name grey."""
    if htprofile.unnamed_phase(name) is not None:
        return "#b0b0b0"
    h = zlib.crc32(name.encode())
    if depth == 1:
        return "rgb(%d,%d,%d)" % (90 + h % 40, 140 + h // 40 % 50, 210)
    return "rgb(%d,%d,%d)" % (225 + h % 30, 90 + h // 30 % 120,
                              40 + h // 3600 % 40)


def label(name, width):
    fits = int((width - 4) // CHAR_PX)
    if fits < 3:
        return ""
    return name if len(name) <= fits else name[:fits - 2] + ".."


def frames(node, x, depth, scale, total, bottom, out):
    """SVG elements of @node at @x and its children above it."""
    width = node.count * scale
    if width < MIN_PX:
        return
    y = bottom - (depth + 1) * ROW_PX
    tip = "%s (%d samples, %.2f%%)" % (node.name, node.count,
                                       100.0 * node.count / total)
    out.append('<g><title>%s</title><rect x="%.2f" y="%d" width="%.2f" '
               'height="%d" fill="%s" rx="2"/>' % (
                   escape(tip), x, y, width, ROW_PX - 1,
                   colour(node.name, depth)))
    text = label(node.name, width)
    if text:
        out.append('<text x="%.2f" y="%d">%s</text>' % (
            x + 3, y + ROW_PX - 5, escape(text)))
    out.append("</g>")
    for name in sorted(node.children):
        child = node.children[name]
        frames(child, x, depth + 1, scale, total, bottom, out)
        x += child.count * scale


def render(folded_lines, title):
    """The SVG text of a flame graph of @folded_lines."""
    root = parse_folded(folded_lines)
    total = max(root.count, 1)
    height = root.depth() * ROW_PX + 50
    bottom = height - 10
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="monospace" font-size="%d">' % (WIDTH, height,
                                                        FONT_PX),
           '<rect width="100%" height="100%" fill="#fff"/>',
           '<text x="%d" y="22" font-weight="bold">%s</text>' % (
               MARGIN, escape("%s: %d samples" % (title, root.count)))]
    frames(root, MARGIN, 0, (WIDTH - 2 * MARGIN) / total, total, bottom, out)
    out.append("</svg>")
    return "\n".join(out) + "\n"
