"""The demo catalogue: the nine ml5.js fast-style networks (Engstrom's TensorFlow models)."""
from dataclasses import dataclass


@dataclass(frozen=True)
class DemoStyle:
    slug: str
    name: str
    description: str


ML5_STYLES = [
    DemoStyle("wave", "The Great Wave", "Hokusai's woodblock print (c. 1831): blue curls and foam."),
    DemoStyle("la_muse", "La Muse", "Picasso's 1935 painting: bold outlines and flat colour."),
    DemoStyle("rain_princess", "Rain Princess", "Leonid Afremov's palette-knife rain: glowing warm dabs."),
    DemoStyle("scream", "The Scream", "Munch (1893): swirling orange skies and anxious strokes."),
    DemoStyle("udnie", "Udnie", "Francis Picabia (1913): fragmented cubist planes."),
    DemoStyle("wreck", "The Shipwreck", "Turner's Shipwreck of the Minotaur: stormy light and spray."),
    DemoStyle("mathura", "Mathura", "A style the ml5.js team trained: ornate, warm texture."),
    DemoStyle("matta", "Matta", "After Roberto Matta's surrealist spaces: dark, electric lines."),
    DemoStyle(
        "matilde_perez",
        "Matilde Pérez",
        "After the Chilean kinetic artist: geometric pattern. Keeps very little of the photo.",
    ),
]

ATTRIBUTION = (
    "ml5.js ml5-data-and-models (MIT); la_muse, rain_princess, scream, udnie, wave and wreck are "
    "Logan Engstrom's fast-style-transfer checkpoints, free for research use with attribution."
)

# Gatys et al. optimise each photo: slow, but it takes any style image the user brings.
OWN_STYLE = DemoStyle(
    "own-style",
    "Your own style",
    "Paints your photo in the style of any image you upload (Gatys et al. 2016). Slow: a few minutes.",
)
OWN_STYLE_CONFIG = {"size": 384, "steps": 150}  # GatysConfig overrides: a preview-sized painting
