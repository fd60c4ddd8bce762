"""Training runs in the admin: a form generated from the family's mlcore config, the run's live
page (progress, loss charts, the latest sample grid, the log tail), and start / stop / resume /
clone, all through services."""
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from .. import services
from ..charts import loss_charts
from ..config_forms import (
    PRESET_FIELD, config_fields, config_from_form, config_initial, preset_choices, submitted_names,
)
from ..models import ArtModel, Dataset, DeviceClass, TrainableFamily, TrainingRun
from ..worker import families, training_runs


class TrainingRunForm(forms.Form):
    name = forms.CharField(max_length=100)
    dataset = forms.ModelChoiceField(queryset=Dataset.objects.none(), help_text="Datasets of this family that are ready.")
    art_model = forms.ModelChoiceField(
        queryset=ArtModel.objects.none(), required=False, label="Model",
        help_text="Add the result as a new version of this model; empty: a new model named after the run.",
    )
    device_class = forms.ChoiceField(
        choices=(), label="Device",
        help_text="Which workers may train it: a run that needs a GPU waits for a worker that has one.",
    )
    processes = forms.IntegerField(
        min_value=1, initial=1, required=False, label="GPUs",
        help_text="GPUs of one worker to train on (a GPU run only); more than 1 trains under torchrun, "
        "one process per GPU, and the batch size must divide by it.",
    )
    precision = forms.ChoiceField(choices=[("fp32", "fp32"), ("bf16", "bf16"), ("fp16", "fp16 (loss scaling)")])
    seed = forms.IntegerField(min_value=0, initial=0)
    start_now = forms.BooleanField(required=False, initial=True, label="Start now")

    def __init__(self, family, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.family = family
        self.config_class = families.training_config_class(family)
        self.fields["dataset"].queryset = Dataset.objects.filter(family=family, status=Dataset.Status.READY)
        self.fields["art_model"].queryset = ArtModel.objects.filter(family=family)
        self.fields["device_class"].choices = [(c, DeviceClass(c).label) for c in settings.RESTYLE_TRAINING_DEVICE_CLASSES]
        self.fields.update(config_fields(self.config_class))

    def config_items(self):
        return [self[name] for name in self.fields if name.startswith("cfg:")]

    def run_items(self):
        return [self[name] for name in self.fields if not (name.startswith("cfg:") or name == PRESET_FIELD)]

    def preset_choices(self):
        return preset_choices(self.config_class)

    def clean(self):
        data = super().clean()
        try:
            data["config"] = config_from_form(self.config_class, data, submitted_names(self))
        except (ValueError, TypeError) as exc:
            raise forms.ValidationError(f"The settings are not valid: {exc}")
        if data.get("processes") is None:
            data["processes"] = 1  # left empty: one
        if "config" in data and data.get("device_class"):
            problem = services.processes_problem(
                device_class=data["device_class"], processes=data["processes"], batch_size=data["config"].batch_size
            )
            if problem:
                self.add_error("processes", problem)
        return data


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ("name", "family", "dataset", "status_badge", "progress", "speed", "created_at")
    list_filter = ("family", "status")
    search_fields = ("name",)
    actions = ["start_runs", "stop_runs", "clone_runs"]
    # What never changes; the live panel above shows what does (status, step, times, errors).
    readonly_fields = ("name", "family", "dataset", "art_model", "config_display", "device_class", "processes", "queue",
                       "precision", "seed", "created_by", "created_at")
    fields = readonly_fields

    def has_change_permission(self, request, obj=None):
        # The page is for watching and acting; settings are fixed once made (clone to vary them).
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/live/", wrap(self.live), name="translator_trainingrun_live"),
            path("<int:pk>/sample.jpg", wrap(self.sample), name="translator_trainingrun_sample"),
            path("<int:pk>/do/<str:what>/", wrap(self.act), name="translator_trainingrun_act"),
        ] + super().get_urls()

    # --- making a run ----------------------------------------------------------------------

    def add_view(self, request, form_url="", extra_context=None):
        family = request.GET.get("family") or request.POST.get("family")
        if family not in TrainableFamily.values:
            return TemplateResponse(request, "admin/translator/trainingrun/choose_family.html", {
                **self.admin_site.each_context(request), "opts": self.model._meta, "title": "Train a model",
                "families": TrainableFamily.choices,
            })
        source = None
        if "clone" in request.GET:
            source = get_object_or_404(TrainingRun, pk=request.GET["clone"])
        if request.method == "POST":
            form = TrainingRunForm(family, request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    run = services.create_run(
                        name=data["name"], family=family, dataset=data["dataset"], config=data["config"],
                        device_class=data["device_class"], processes=data["processes"], precision=data["precision"],
                        seed=data["seed"], art_model=data["art_model"], created_by=request.user,
                    )
                    if data["start_now"]:
                        services.start_run(run=run)
                except services.ServiceError as exc:
                    form.add_error(None, str(exc))
                else:
                    messages.success(request, f"Run “{run}” {'queued' if data['start_now'] else 'created'}.")
                    return redirect("admin:translator_trainingrun_change", run.pk)
        else:
            initial = {"seed": 0, "processes": 1}
            preset = request.GET.get(PRESET_FIELD, "")
            config_class = families.training_config_class(family)
            if preset and preset not in config_class.preset_names():
                return HttpResponseBadRequest(
                    f"{family} has no preset {preset!r}; its presets: {', '.join(config_class.preset_names())}.",
                    content_type="text/plain; charset=utf-8")
            if preset:  # the form again, starting from the preset's values
                initial.update(config_initial(config_class.preset(preset)), preset=preset)
            elif source is not None:
                config = families.training_config_class(family).from_dict(source.config)
                initial.update(config_initial(config), name=f"{source.name} (copy)", dataset=source.dataset_id,
                               art_model=source.art_model_id, device_class=source.device_class, processes=source.processes,
                               precision=source.precision, seed=source.seed)
            form = TrainingRunForm(family, initial=initial)
        return TemplateResponse(request, "admin/translator/trainingrun/add.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "form": form, "family": family,
            "family_label": TrainableFamily(family).label, "title": f"Train a {TrainableFamily(family).label} model",
            "layout": families.dataset_layout(family), "preset": form[PRESET_FIELD].value() or "",
        })

    # --- watching a run --------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        services.sweep_runs()
        run = get_object_or_404(TrainingRun, pk=object_id)
        extra_context = {**(extra_context or {}), "run": run, "live": self._live_context(run),
                         "live_url": reverse("admin:translator_trainingrun_live", args=[run.pk])}
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        services.sweep_runs()
        return super().changelist_view(request, extra_context)

    def live(self, request, pk):
        """The live panel alone: the change page swaps it in every few seconds."""
        run = get_object_or_404(TrainingRun, pk=pk)
        return TemplateResponse(request, "admin/translator/trainingrun/live.html", self._live_context(run))

    def _live_context(self, run):
        has_sample = training_runs.has_sample(run)
        return {
            "run": run,
            "percent": round(100 * run.step / run.total_steps) if run.total_steps else 0,
            "eta": _duration(run.eta_seconds),
            "charts": loss_charts(training_runs.run_metrics(run)),
            "sample_url": (reverse("admin:translator_trainingrun_sample", args=[run.pk]) + f"?step={run.step}")
            if has_sample else None,
            "log_tail": training_runs.log_tail(run),
            "refresh": run.status in TrainingRun.ACTIVE,
            "actions": _actions(run),
        }

    def sample(self, request, pk):
        run = get_object_or_404(TrainingRun, pk=pk)
        latest = training_runs.latest_sample(run)
        if latest is None:
            raise Http404("No sample grid yet.")
        response = HttpResponse(latest, content_type="image/jpeg")
        response["Cache-Control"] = "no-cache"
        return response

    # --- acting on runs --------------------------------------------------------------------

    def act(self, request, pk, what):
        run = get_object_or_404(TrainingRun, pk=pk)
        if request.method != "POST" or what not in ("start", "stop", "resume", "clone"):
            raise Http404("No such action.")
        if what == "clone":
            return redirect(reverse("admin:translator_trainingrun_add") + f"?family={run.family}&clone={run.pk}")
        try:
            if what == "stop":
                services.stop_run(run=run)
                messages.info(request, f"Stopping “{run}”: it saves a checkpoint at its next step.")
            else:
                services.start_run(run=run)
                messages.success(request, f"“{run}” is queued" + (" and resumes from its last checkpoint." if what == "resume" else "."))
        except services.ServiceError as exc:
            messages.error(request, str(exc))
        return redirect("admin:translator_trainingrun_change", run.pk)

    @admin.action(description="Start (or resume) the selected runs")
    def start_runs(self, request, queryset):
        self._bulk(request, queryset, services.start_run, "queued")

    @admin.action(description="Stop the selected runs")
    def stop_runs(self, request, queryset):
        self._bulk(request, queryset, services.stop_run, "stopping")

    @admin.action(description="Clone the selected runs")
    def clone_runs(self, request, queryset):
        for run in queryset:
            services.clone_run(run=run, created_by=request.user)
        messages.success(request, f"Cloned {queryset.count()} run(s); start the copies when ready.")

    def _bulk(self, request, queryset, service, word):
        done = 0
        for run in queryset:
            try:
                service(run=run)
                done += 1
            except services.ServiceError as exc:
                messages.warning(request, str(exc))
        if done:
            messages.success(request, f"{done} run(s) {word}.")

    # --- columns -----------------------------------------------------------------------------

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return format_html('<span class="run-status run-{}">{}</span>', obj.status, obj.get_status_display())

    @admin.display(description="Progress")
    def progress(self, obj):
        return f"{obj.step} / {obj.total_steps}"

    @admin.display(description="Images/s")
    def speed(self, obj):
        return f"{obj.images_per_second:.2f}" if obj.images_per_second else "—"

    @admin.display(description="Settings")
    def config_display(self, obj):
        return format_html("<pre>{}</pre>", _pretty(obj.config))


def _actions(run):
    S = TrainingRun.Status
    can = []
    if run.status == S.CREATED:
        can.append(("start", "Start"))
    if run.status in (S.QUEUED, S.RUNNING):
        can.append(("stop", "Stop"))
    if run.status in (S.CANCELLED, S.FAILED):
        can.append(("resume", "Resume"))
    can.append(("clone", "Clone"))
    return [(what, label, reverse("admin:translator_trainingrun_act", args=[run.pk, what])) for what, label in can]


def _duration(seconds):
    if seconds is None:
        return "—"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {seconds:02d} s"


def _pretty(config):
    import json

    return json.dumps(config, indent=2, sort_keys=True)
