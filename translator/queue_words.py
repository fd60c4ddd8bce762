"""A queued job's place in words, as the pages show it (static/js/jobs.js says the same)."""


def ordinal(n):
    """1 -> "1st", 2 -> "2nd", 11 -> "11th", 23 -> "23rd"."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def queue_words(position):
    """"Next in the queue, waiting for a worker", "3rd in the queue", or "" when not queued."""
    if not position:
        return ""
    if position == 1:
        return "Next in the queue, waiting for a worker"
    return f"{ordinal(position)} in the queue"
