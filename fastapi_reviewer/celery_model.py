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
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi_reviewer.facts.lazy import call_targets
from fastapi_reviewer.facts.model import CallFact, ClassFacts, DecoratorFact, ModuleFacts, Span
from fastapi_reviewer.index import FunctionRef, ProjectIndex

TASK_DECORATORS = frozenset({"celery.Celery.task", "celery.shared_task"})
PERIODIC_DECORATORS = frozenset({"celery.task.periodic_task", "celery.decorators.periodic_task"})
ADD_PERIODIC = "celery.Celery.add_periodic_task"
SIGNATURE_SUFFIXES = (".s()", ".si()", ".signature()", ".subtask()", ".name", "()")
DISPATCH_METHODS = frozenset({"delay", "apply_async", "s", "si", "signature", "subtask", "map", "starmap", "chunks"})
SEND_TASK = frozenset({"celery.Celery.send_task"})
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
    periodic: bool = False  # run by celery beat (a schedule entry or add_periodic_task names it)

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
    # task -> functions that enqueue it; the tasks beat drives, directly or through other tasks:
    # both found on the first question about schedules (``schedule``), as few runs ask one (a run
    # naming a few files asks only about the tasks in them)
    dispatchers: dict[str, set[str]] = field(default_factory=dict)
    scheduled: set[str] = field(default_factory=set)
    schedule: Callable[[], None] | None = field(default=None, repr=False, compare=False)

    def driven_by_schedule(self, full: str) -> bool:
        """A periodic task, or one only ever enqueued by code that scheduled tasks run (a
        reconciliation loop enqueues the work again on its next run)."""
        self.find_schedules()
        return full in self.scheduled

    def find_schedules(self) -> None:
        if self.schedule is not None:
            find, self.schedule = self.schedule, None
            find()

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
        self._closures: dict[str, set[str]] = {}

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
                kind = index.resolve(dec.target).name
                if kind in TASK_DECORATORS or kind in PERIODIC_DECORATORS:
                    self._add(full, ref, dec.kwargs, dec.span or _line_span(dec, ref), "decorator", app_task_cls.get(self._app_of(dec.target)))
                    self.model.tasks[full].periodic = kind in PERIODIC_DECORATORS
                    break
        registering = {  # `app.task(fn)`: resolve each target once
            target
            for target in index.call_targets()
            if target and (index.resolve(target).name in TASK_DECORATORS or (target.endswith("()") and index.resolve(target[:-2]).name in TASK_DECORATORS))
        }
        # the call form hands the function over: `app.task(fn)`, not the decorator `@app.task(...)`
        for _, module, fn, call in index.sites(n for n in index.sites_calling(registering) if index.args_of(n)):
            self._call_form(module, fn.calls, call, app_task_cls)
        for cls_full, (module, cls) in index.classes.items():
            run = f"{cls_full}.run"
            if run in index.functions and run not in self.model.tasks and index.subclass_of(cls_full, {TASK_TYPE, "celery.Task"}):
                ref = index.functions[run]
                info = TaskInfo(run, ref, dict(cls.assigns), cls.span, True, "self", via="class")
                info.retry_policy = self._class_retry_policy(cls_full)
                self.model.tasks[run] = info
        self.model.schedule = self._schedules
        return self.model

    def _schedules(self) -> None:
        self._mark_periodic()
        self._dispatch_sites()
        # asked after the project phase released the call sites (engine.py): they were numbered
        # again for this, and are not needed any more (memory)
        self.index.release_call_sites()

    def _task_keys(self) -> dict[str, str]:
        """Every way a task is named: full name, Celery's default name, `name=` (literal or constant)."""
        keys: dict[str, str] = {}
        for full, info in self.model.tasks.items():
            keys[full] = full
            keys[f"{info.ref.module.module}.{info.ref.function.name}"] = full
            name = info.options.get("name", "").strip()
            if name:
                keys[name.strip("'\"")] = full
        return keys

    def _dispatch_sites(self) -> None:
        index = self.index
        keys = self._task_keys()
        dispatching: dict[str, str] = {}  # `task.delay` target -> the task
        sending: set[str | None] = set()  # `app.send_task` targets
        for target in index.call_targets():
            if target and "." in target:
                owner, method = target.rsplit(".", 1)
                if method in DISPATCH_METHODS:
                    sym = index.resolve(owner)
                    if sym.kind == "function" and sym.name in self.model.tasks:
                        dispatching[target] = sym.name
                        continue
            # a target keeps the callee's last attribute: `app.send_task` -> `proj.celery.app.send_task`
            if target is not None and target.endswith("send_task"):
                sending.add(target)
        numbers = index.sites_calling(dispatching)
        for n, module, fn in index.site_functions(numbers):  # `task.delay(...)`: who calls it, not how
            if fn.qualname != "<module>":
                full = f"{module.module}.{fn.qualname}" if module.module else fn.qualname
                self.model.dispatchers.setdefault(dispatching[index.target_of(n)], set()).add(full)  # type: ignore[index]
        sent = sorted({*index.sites_calling(sending), *index.unresolved_sites("send_task")})  # and calls without a target, by callee
        for _, module, fn, call in index.sites(sent):
            if fn.qualname == "<module>":
                continue
            task = None
            if call.raw.endswith("send_task"):
                named = call.args[0] if call.args else call.kwargs.get("name")
                if named is not None:
                    task = keys.get(named.strip().strip("'\""))
            if task is not None:
                full = f"{module.module}.{fn.qualname}" if module.module else fn.qualname
                self.model.dispatchers.setdefault(task, set()).add(full)
        scheduled = self.model.scheduled
        scheduled.update(t for t, info in self.model.tasks.items() if info.periodic)
        closure: set[str] = set()
        for task in scheduled:
            closure |= self._runs(task)
        changed = True
        while changed:  # work enqueued by scheduled work is scheduled work too
            changed = False
            for task in self.model.tasks:
                sources = self.model.dispatchers.get(task)
                if task in scheduled or not sources:
                    continue
                own = self._runs(task)  # a task that re-enqueues itself (batches)
                if all(source in closure or source in own for source in sources):
                    scheduled.add(task)
                    closure |= own
                    changed = True

    def _runs(self, full: str) -> set[str]:
        """The project functions a function runs, to any depth (itself included)."""
        if full in self._closures:
            return self._closures[full]
        index = self.index
        seen: set[str] = set()
        todo = [full]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            ref = index.functions.get(current)
            if ref is None:
                continue
            for target in call_targets(ref.function):  # targets only: no body decoded (facts/lazy.py)
                sym = index.resolve(target)
                if sym.kind == "function":
                    todo.append(sym.name)
                elif sym.kind == "class":
                    todo.extend(f"{c}.__init__" for c in index.mro(sym.name) if f"{c}.__init__" in index.functions)
        self._closures[full] = seen
        return seen

    # ------------------------------------------------------------- schedule
    def _scheduled_names(self) -> set[str]:
        """What beat schedules name: {"task": ...} entries anywhere, add_periodic_task(when, sig)."""
        found: set[str] = set()
        for module in self.index.modules.values():
            for fn in module.functions:
                found.update(value for key, value in fn.dict_entries if key == "task")
        index = self.index
        dicts = {target for target in index.call_targets() if target is not None and index.resolve(target).name == "builtins.dict"}
        periodic = {target for target in index.call_targets() if target is not None and target.endswith("add_periodic_task")}
        # a target keeps the callee's last attribute (see _dispatch_sites)
        numbers = {
            *(n for n in index.sites_passing(("task",)) if index.target_of(n) in dicts),  # dict(task=...)
            *index.sites_calling(periodic),
            *index.unresolved_sites("add_periodic_task"),
        }
        for n, _, _, call in index.sites(sorted(numbers)):
            if index.target_of(n) in dicts and "task" in call.kwargs:
                found.add(call.kwargs["task"])
            if call.raw.endswith("add_periodic_task") and len(call.args) > 1:
                found.add(call.args[1])
            elif call.raw.endswith("add_periodic_task") and "sig" in call.kwargs:
                found.add(call.kwargs["sig"])
        names: set[str] = set()
        for text in found:
            text = text.strip()
            if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":
                names.add(text[1:-1])
                continue
            for suffix in SIGNATURE_SUFFIXES:
                if text.endswith(suffix):
                    text = text[: -len(suffix)]
                    break
            names.add(text)
            sym = self.index.resolve(text)
            if sym.kind == "function":
                names.add(sym.name)
        return names

    def _mark_periodic(self) -> None:
        scheduled = self._scheduled_names()
        for info in self.model.tasks.values():
            name = info.options.get("name", "").strip()
            if len(name) > 1 and name[0] == name[-1] and name[0] in "'\"":
                name = name[1:-1]
            short = f"{info.ref.module.module}.{info.ref.function.name}"
            if info.periodic or {info.full, short, name} & scheduled:
                info.periodic = True

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
        for _, module, fn, call in self.index.sites(sorted(self.index.sites_passing(("task_cls",)))):
            if fn is module.functions[0] and self.index.resolve(call.target).name == CELERY_APP:  # module level
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
        model = _MODELS[index] = _Builder(index).build() if imports_celery(index) else CeleryModel()
    return model


def imports_celery(index: ProjectIndex) -> bool:
    """Does any module import celery (at any level, in any form)?  Without that no name resolves to
    Celery's: no app, task or schedule, and the model is empty without resolving every variable and
    call target of the project (~150 ms of a pre-commit run on polar's 1,774 modules)."""
    for module in index.modules.values():
        for name in module.imported_modules:
            if name.startswith("celery") and (len(name) == 6 or name[6] == "."):
                return True
    return False
