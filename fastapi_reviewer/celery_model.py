"""Which project functions are Celery tasks, and how they are configured.

A task is a function decorated with ``@<app>.task`` (any ``celery.Celery`` instance or subclass,
wherever it is defined: the index resolves the decorator to ``celery.Celery.task``) or
``@shared_task``, with or without arguments; a function registered with the call form
``app.task(fn)`` / ``app.task(**options)(fn)``; or the ``run`` method of a project subclass of
``celery.Task``.  For each task the model records its options, whether it is bound (``bind=True``:
the first parameter is the task itself), the line to report on (the decorator), and where a retry
policy comes from: ``autoretry_for=`` on the decorator, or a ``base=`` class (or the app's
``task_cls=``) that sets ``autoretry_for`` or calls ``self.retry`` itself.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

from fastapi_reviewer.facts.model import CallFact, ClassFacts, DecoratorFact, ModuleFacts, Span
from fastapi_reviewer.index import FunctionRef, ProjectIndex

TASK_DECORATORS = frozenset({"celery.Celery.task", "celery.shared_task"})
TASK_TYPE = "celery.app.task.Task"
RETRY = "celery.app.task.Task.retry"
CELERY_APP = "celery.Celery"
_EMPTY = frozenset({"", "()", "[]", "None", "False", "set()", "tuple()", "{...}"})


@dataclass(slots=True)
class TaskInfo:
    full: str
    ref: FunctionRef
    options: dict[str, str]
    span: Span  # where findings about the task as a whole are reported: its decorator
    bound: bool
    self_name: str | None  # the first parameter of a bound task
    retry_policy: str | None = None  # "autoretry_for=...", "base class `X`", ... ; None when there is none
    via: str = "decorator"  # decorator | call | class

    @property
    def module(self) -> ModuleFacts:
        return self.ref.module

    @property
    def name(self) -> str:
        return self.ref.function.qualname


@dataclass(slots=True)
class CeleryModel:
    tasks: dict[str, TaskInfo] = field(default_factory=dict)
    apps: dict[str, str] = field(default_factory=dict)  # module variable -> task_cls text ("" when none)

    def task(self, full: str) -> TaskInfo | None:
        return self.tasks.get(full)

    def is_retry_call(self, index: ProjectIndex, call: CallFact, task: TaskInfo | None) -> bool:
        """`self.retry(...)` in a bound task, `my_task.retry(...)`, `Task.retry` on a task object."""
        if task is not None and task.self_name and call.raw == f"{task.self_name}.retry":
            return True
        return index.resolve(call.target).name == RETRY


def _non_empty(value: str | None) -> bool:
    return value is not None and value.strip() not in _EMPTY


class _Builder:
    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self.model = CeleryModel()
        self._class_policy: dict[str, str | None] = {}

    def build(self) -> CeleryModel:
        index = self.index
        for full, value in index.variables.items():
            sym = index.resolve(value)
            if (sym.kind == "instance-ext" and sym.name == CELERY_APP) or (
                sym.kind == "instance" and index.subclass_of(sym.name, {CELERY_APP})
            ):
                self.model.apps[full] = ""
        app_task_cls = self._app_task_classes()
        for full, ref in index.functions.items():
            for dec in ref.function.decorators:
                if index.resolve(dec.target).name in TASK_DECORATORS:
                    self._add(full, ref, dec.kwargs, dec.span or _line_span(dec, ref), "decorator", app_task_cls.get(self._app_of(dec.target)))
                    break
        for module in index.modules.values():
            for fn in module.functions:
                for call in fn.calls:
                    self._call_form(module, fn.calls, call, app_task_cls)
        for cls_full, (module, cls) in index.classes.items():
            run = f"{cls_full}.run"
            if run in index.functions and run not in self.model.tasks and index.subclass_of(cls_full, {TASK_TYPE, "celery.Task"}):
                ref = index.functions[run]
                info = TaskInfo(run, ref, dict(cls.assigns), cls.span, True, "self", via="class")
                info.retry_policy = self._class_retry_policy(cls_full)
                self.model.tasks[run] = info
        return self.model

    # ---------------------------------------------------------------- tasks
    def _add(self, full: str, ref: FunctionRef, options: dict[str, str], span: Span, via: str, app_cls: str | None) -> None:
        if full in self.model.tasks:
            return
        bound = options.get("bind") == "True"
        params = ref.function.params
        self_name = params[0].name if bound and params else None
        info = TaskInfo(full, ref, dict(options), span, bound, self_name, via=via)
        if _non_empty(options.get("autoretry_for")):
            info.retry_policy = f"autoretry_for={options['autoretry_for']}"
        else:
            base = options.get("base") or app_cls
            if base:
                sym = self.index.resolve(base)
                if sym.kind == "class":
                    policy = self._class_retry_policy(sym.name)
                    if policy:
                        info.retry_policy = policy
        self.model.tasks[full] = info

    def _app_of(self, decorator: str) -> str | None:
        owner = decorator.rsplit(".", 1)[0] if "." in decorator else decorator
        return self.index.variable_name(owner)

    def _app_task_classes(self) -> dict[str | None, str]:
        """`Celery(..., task_cls=RetryingTask)`: the default base of every task of that app."""
        found: dict[str | None, str] = {}
        for module in self.index.modules.values():
            top = module.functions[0]
            for call in top.calls:
                if "task_cls" in call.kwargs and self.index.resolve(call.target).name == CELERY_APP:
                    prefix = f"{module.module}." if module.module else ""
                    if call.assigned_to and "." not in call.assigned_to:
                        found[prefix + call.assigned_to] = call.kwargs["task_cls"]
        return found

    def _call_form(self, module: ModuleFacts, calls: list[CallFact], call: CallFact, app_cls: dict[str | None, str]) -> None:
        """`app.task(fn)` and `app.task(bind=True)(fn)`."""
        if not call.target or not call.args:
            return
        options: dict[str, str] | None = None
        if self.index.resolve(call.target).name in TASK_DECORATORS:
            options = {k: v for k, v in call.kwargs.items()}
            app = self._app_of(call.target)
        elif call.target.endswith("()") and self.index.resolve(call.target[:-2]).name in TASK_DECORATORS:
            inner = next(
                (c for c in calls if c is not call and c.span.line == call.span.line and c.span.column == call.span.column),
                None,
            )
            options = dict(inner.kwargs) if inner is not None else {}
            app = self._app_of(call.target[:-2])
        else:
            return
        fn_sym = self.index.resolve(call.args[0])
        if fn_sym.kind != "function":
            return
        ref = self.index.functions[fn_sym.name]
        self._add(fn_sym.name, ref, options, call.span, "call", app_cls.get(app))

    # --------------------------------------------------------- base classes
    def _class_retry_policy(self, cls_full: str) -> str | None:
        if cls_full in self._class_policy:
            return self._class_policy[cls_full]
        self._class_policy[cls_full] = None
        policy = None
        for name in self.index.mro(cls_full):
            cls = self.index.class_facts(name)
            if cls is None:
                continue
            if _non_empty(cls.assigns.get("autoretry_for")):
                policy = f"base class `{cls.name}` (autoretry_for)"
                break
            if self._calls_retry(name, cls):
                policy = f"base class `{cls.name}` (retries in `{cls.name}`)"
                break
        self._class_policy[cls_full] = policy
        return policy

    def _calls_retry(self, cls_full: str, cls: ClassFacts) -> bool:
        for method in cls.methods:
            ref = self.index.functions.get(f"{cls_full}.{method}")
            if ref is None:
                continue
            first = ref.function.params[0].name if ref.function.params else None
            for call in ref.function.calls:
                if (first and call.raw == f"{first}.retry") or self.index.resolve(call.target).name == RETRY:
                    return True
        return False


def _line_span(dec: DecoratorFact, ref: FunctionRef) -> Span:
    line = dec.line or ref.function.span.line
    return Span(line, 1, line, 1)


_MODELS: weakref.WeakKeyDictionary[ProjectIndex, CeleryModel] = weakref.WeakKeyDictionary()


def build_celery_model(index: ProjectIndex) -> CeleryModel:
    """The Celery picture of a project, built once per index (several checks ask for it)."""
    model = _MODELS.get(index)
    if model is None:
        model = _MODELS[index] = _Builder(index).build()
    return model
