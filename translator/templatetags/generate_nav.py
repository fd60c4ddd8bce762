"""{% can_generate as flag %}: whether the Generate page has a model to offer (its nav link
shows only then)."""
from django import template

from .. import selectors

register = template.Library()


@register.simple_tag
def can_generate():
    return selectors.generator_models().exists()
