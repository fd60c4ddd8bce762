"""{{ conversion|queue_place }}: a queued job's place in its queue in words ("3rd in the queue"),
so every page that shows a job tile needs no view change to say it."""
from django import template

from .. import selectors
from ..queue_words import queue_words

register = template.Library()


@register.filter
def queue_place(conversion):
    return queue_words(selectors.queue_position(conversion=conversion))
