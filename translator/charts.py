"""Loss charts as inline SVG, drawn on the server from metrics.jsonl: no JavaScript library,
no CDN. One small chart per loss, since GAN, L1 and perceptual terms live on different scales."""
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

WIDTH, HEIGHT, PAD = 320, 120, 6

# Metrics worth a caption in words, in the order the run page shows them (the rest follow,
# sorted by name). StyleGAN2's trainer logs these (issue 12); its lazy regularisers log their
# latest value on every step, so each has a point per record.
CAPTIONS = {
    "g_loss": "G loss (non-saturating logistic)",
    "d_loss": "D loss (logistic)",
    "r1_penalty": "R1 penalty on reals",
    "pl_penalty": "path-length penalty",
    "pl_mean": "path-length mean",
    "augment_p": "augmentation p (ADA)",
    "d_real_sign": "sign of D on reals (ADA's r_t)",
}
# Progress counters rather than measures of the training (kimg: thousands of images seen).
SKIPPED = {"step", "time", "elapsed", "images_per_second", "epoch", "kimg"}


def _points(steps, values):
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    first, last = steps[0], steps[-1]
    width = (last - first) or 1
    return " ".join(
        f"{PAD + (s - first) / width * (WIDTH - 2 * PAD):.1f},{HEIGHT - PAD - (v - lo) / span * (HEIGHT - 2 * PAD):.1f}"
        for s, v in zip(steps, values)
    )


def loss_charts(records, max_points=400):
    """Safe HTML: an SVG line chart per numeric metric of `records` (dicts with "step"), skipping
    timing and learning-rate columns."""
    order = list(CAPTIONS)
    keys = sorted({k for r in records for k, v in r.items()
                   if k not in SKIPPED and not k.startswith("lr") and isinstance(v, (int, float))},
                  key=lambda k: (order.index(k) if k in order else len(order), k))
    if "g_loss" in keys and "loss" in keys:
        keys.remove("loss")  # StyleGAN2 logs its G loss as "loss" too, for progress bars: one chart of it
    if not records or not keys:
        return mark_safe('<p class="chart-empty">No metrics yet.</p>')
    stride = max(1, len(records) // max_points)
    sampled = records[::stride] + ([records[-1]] if (len(records) - 1) % stride else [])
    charts = []
    for key in keys:
        rows = [(r["step"], float(r[key])) for r in sampled if isinstance(r.get(key), (int, float)) and "step" in r]
        if len(rows) < 2:
            continue
        steps, values = zip(*rows)
        charts.append((CAPTIONS.get(key, key), _points(steps, values), f"{values[-1]:.4g}", f"{min(values):.4g}",
                       f"{max(values):.4g}",
                       steps[0], steps[-1]))
    return format_html(
        '<div class="loss-charts">{}</div>',
        format_html_join(
            "",
            '<figure class="loss-chart"><figcaption><b>{}</b> {} <small>(min {}, max {})</small></figcaption>'
            '<svg viewBox="0 0 ' + str(WIDTH) + " " + str(HEIGHT) + '" role="img" aria-label="{} by step">'
            '<polyline fill="none" stroke="#5b3cc4" stroke-width="1.5" points="{}"/></svg>'
            "<small>step {} … {}</small></figure>",
            ((k, last, lo, hi, k, pts, s0, s1) for k, pts, last, lo, hi, s0, s1 in charts),
        ),
    )
