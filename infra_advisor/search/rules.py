"""Named rules: hard rules reject with a reason in numbers, soft rules add notes.

Each rule has an id, a sentence, and the Workload fields it reads; the field
names are checked when this module is imported, so a typo fails loudly
(with a "did you mean") instead of silently never firing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from infra_advisor.catalog import Catalog
from infra_advisor.checks import FrozenRecord, record
from infra_advisor.job import Job
from infra_advisor.models import (
    PRECISIONS,
    Chip,
    Framework,
    Interconnect,
    Offering,
    PeakTflops,
    PowerMode,
)
from infra_advisor.plan import offer
from infra_advisor.plan.evaluate import Outcome
from infra_advisor.plan.frameworks import (
    Capabilities,
    capabilities,
    dominates,
    not_built_for,
    row_matches,
    runs_model_type,
    signature,
)
from infra_advisor.units import format_duration, format_money
from infra_advisor.workload import FIELDS

SUPPORT_RANK = {"native": 0, "bridge": 1, "experimental": 2}
# A framework reached through a bridge loses some efficiency (bounded soft adjustment).
BRIDGE_PENALTY = {"native": 1.0, "bridge": 0.9, "experimental": 0.75}


@record(frozen=True, kw_only=False)
class Rule(FrozenRecord):
    """A named rule: its id, the sentence it enforces and the workload fields it reads."""

    id: str
    sentence: str
    reads: tuple[str, ...]
    hard: bool


RULES: dict[str, Rule] = {}
R = TypeVar("R", bound=Callable[..., Any])


def rule(
    rule_id: str, sentence: str, reads: tuple[str, ...], *, hard: bool = True
) -> Callable[[R], R]:
    for name in reads:
        if name not in FIELDS:
            import difflib

            close = difflib.get_close_matches(name, FIELDS, n=1)
            raise AssertionError(
                f"rule {rule_id}: unknown workload field {name!r}"
                + (f" (did you mean {close[0]!r}?)" if close else "")
            )

    def register(fn: R) -> R:
        RULES[rule_id] = Rule(rule_id, sentence, reads, hard)
        return fn

    return register


# --------------------------------------------------------------------------- chip rules


@rule(
    "chip-status",
    "Discontinued and legacy parts are considered only with --include-legacy.",
    ("include_legacy",),
)
def check_status(job: Job, chip: Chip) -> str | None:
    if chip.status in ("legacy", "discontinued") and not job.workload.include_legacy:
        return f"{chip.status}; pass --include-legacy to consider it"
    if chip.status == "announced":
        return "announced, not yet available"
    return None


@rule(
    "chip-deploy",
    "Edge deployments use edge chips; the cloud and on-prem use datacenter, workstation or "
    "consumer parts (where they are offered: see offering-provider).",
    ("deploy",),
)
def check_deploy(job: Job, chip: Chip) -> str | None:
    deploy = job.workload.deploy
    if deploy == "edge" and chip.segment != "edge":
        return f"a {chip.segment} part, and --deploy edge asks for an edge device"
    if deploy != "edge" and chip.segment == "edge":
        return "an edge part; pass --deploy edge to consider it"
    return None


@rule("chip-vendor", "--vendor limits chips to one vendor.", ("vendor",))
def check_vendor(job: Job, chip: Chip) -> str | None:
    vendor = job.workload.vendor
    if vendor and vendor.lower() not in ("any", chip.vendor):
        return f"made by {chip.vendor}, and --vendor asks for {vendor}"
    return None


@rule(
    "chip-kind",
    "Only processors that run models: DPUs serve as offloads, not as the main chip.",
    (),
)
def check_kind(job: Job, chip: Chip) -> str | None:
    if chip.type == "dpu":
        return "a DPU: used as a network/storage offload, not to run the model"
    return None


@rule(
    "chip-task",
    "Inference-only parts (Inferentia, Cloud AI 100, Edge TPU) do not train.",
    ("task",),
)
def check_task(job: Job, chip: Chip) -> str | None:
    if "inference-only" in chip.features and job.task != "inference":
        return f"an inference-only part; it cannot {job.task}"
    return None


@rule(
    "chip-power-budget",
    "A chip whose board power exceeds --power-budget must run in a lower power "
    "mode; the stack's estimated power is what the budget holds (see power-budget).",
    ("power_budget",),
    hard=False,
)
def check_power(job: Job, chip: Chip) -> str | None:
    budget = job.workload.power_budget
    if budget is None or chip.tdp_w <= budget or capped_mode(job, chip) is not None:
        return None
    lowest = lowest_mode_w(chip)
    if lowest is not None:
        return f"draws up to {chip.tdp_w:g} W, {lowest:g} W in its lowest power mode; the power budget is {budget:g} W"
    return f"draws up to {chip.tdp_w:g} W; the power budget is {budget:g} W (no power modes in the catalog)"


def lowest_mode_w(chip: Chip) -> float | None:
    """The budget of the chip's lowest power mode; None for a part with no modes."""
    return min(m.power_w for m in chip.power_modes) if chip.power_modes else None


def capped_mode(job: Job, chip: Chip) -> PowerMode | None:
    """The power mode the chip runs in for this job: the highest-budget one within
    --power-budget when the full board power exceeds it; None to run at full power."""
    budget = job.workload.power_budget
    if budget is None or chip.tdp_w <= budget:
        return None
    fitting = [m for m in chip.power_modes if m.power_w <= budget]
    return max(fitting, key=_mode_order) if fitting else None


def _mode_order(mode: PowerMode) -> tuple[float, float, float]:
    return (mode.power_w, mode.gpu_max_mhz, mode.emc_max_mhz)


def reference_mode(chip: Chip) -> PowerMode:
    """The mode the chip's peaks are quoted at: the highest budget, then the highest clocks."""
    return max(chip.power_modes, key=_mode_order)


@record(frozen=True, kw_only=False)
class OperatingPoint(FrozenRecord):
    """A chip as it runs for a job: itself, or derived for the power mode it is capped to."""

    chip: Chip
    mode: PowerMode | None = None
    note: str | None = None


def operating_point(job: Job, chip: Chip) -> OperatingPoint:
    """The chip as it runs for this job, and a note saying so: in a capped power mode its peaks,
    memory bandwidth and board power are those the mode allows (F22c); otherwise unchanged."""
    mode = capped_mode(job, chip)
    if mode is None:
        return OperatingPoint(chip)
    key = ("operating-point", chip.id, mode.name)
    known: OperatingPoint | None = job.cache.get(key)
    if known is None:
        capped, note = chip_in_mode(chip, mode)
        known = job.cache[key] = OperatingPoint(capped, mode, note)
    return known


def chip_in_mode(chip: Chip, mode: PowerMode) -> tuple[Chip, str]:
    """The chip as it runs in ``mode`` (its peaks, memory bandwidth and board power scaled to the
    clocks the mode allows, F22c), and a note saying so."""
    import dataclasses

    from infra_advisor.physics.power import mode_shares

    ref = reference_mode(chip)
    compute, memory = mode_shares(mode.gpu_max_mhz, mode.emc_max_mhz, ref.gpu_max_mhz,
                                  ref.emc_max_mhz, mode.gpu_tpcs, ref.gpu_tpcs)  # fmt: skip

    def scaled(peaks: PeakTflops | None) -> PeakTflops | None:
        if peaks is None:
            return None
        values = {p: v * compute for p in PRECISIONS if (v := peaks.get(p)) is not None}
        return PeakTflops(**values)

    capped = dataclasses.replace(
        chip,
        peak_tflops=scaled(chip.peak_tflops) or chip.peak_tflops,
        sparse_peak_tflops=scaled(chip.sparse_peak_tflops),
        matmul_sustained_tflops=scaled(chip.matmul_sustained_tflops),
        dla_peak_tflops=scaled(chip.dla_peak_tflops),
        memory_bandwidth_gb_s=chip.memory_bandwidth_gb_s * memory,
        tdp_w=mode.power_w,
    )
    tpcs = f", {mode.gpu_tpcs} of {ref.gpu_tpcs} TPCs" if mode.gpu_tpcs and ref.gpu_tpcs else ""
    note = (
        f"runs in its {mode.name} power mode (at most {mode.power_w:g} W; GPU {mode.gpu_max_mhz:g} "
        f"of {ref.gpu_max_mhz:g} MHz{tpcs}, memory {mode.emc_max_mhz:g} of {ref.emc_max_mhz:g} "
        f"MHz): {compute:.0%} of peak compute, {memory:.0%} of memory bandwidth"
    )
    return capped, note


CHIP_RULES: tuple[Callable[[Job, Chip], str | None], ...] = (
    check_status,
    check_task,
    check_deploy,
    check_vendor,
    check_kind,
)


def chip_rejections(job: Job, chip: Chip) -> list[str]:
    return [reason for check in CHIP_RULES if (reason := check(job, chip)) is not None]


# --------------------------------------------------------------------------- offering rules


@rule(
    "offering-provider",
    "A stack is units of one offering: --cloud keeps that provider's, --deploy onprem or edge "
    "the systems one buys, --offering the one named; a chip no such offering prices is ranked "
    "only when --chip pins it or with --include-unpriced.",
    ("deploy", "cloud", "offering", "interconnect", "include_unpriced", "include_legacy"),
)
def offerings_for(job: Job, cat: Catalog, chip: Chip) -> tuple[list[Offering], str | None]:
    """The offerings this chip can be had in for the workload, cheapest unit-hour per chip
    first; with none, why not."""
    w = job.workload
    if w.offering is not None:
        pinned = cat.offerings[w.offering]
        if pinned.chip != chip.id:
            return [], f"--offering {pinned.id} holds {pinned.chip}, not this chip"
        return [pinned], None
    every = _offerings_of(cat, chip.id)
    key = ("offerings-for", chip.id, w.deploy, w.cloud, w.interconnect, w.pricing,
           w.include_unpriced, w.include_legacy)  # fmt: skip
    if key not in cat.memo:
        allowed = [o for o in every if _offering_problem(job, o) is None]
        cat.memo[key] = _undominated_units(cat, allowed, w.pricing)
    kept: list[Offering] = list(cat.memo[key])
    if kept:
        return kept, None
    unpriced = [o.id for o in every if _offering_problem(job, o) == "unpriced"]
    if unpriced:  # offered where asked, but at no public price
        return [], (
            f"{', '.join(unpriced[:2])} publishes no {w.pricing.replace('_', '-')} price; "
            "--include-unpriced ranks it without a cost"
        )
    where = _where_asked(w.deploy, w.cloud)
    offered = sorted({o.provider for o in every})
    if offered == ["onprem"] and w.deploy == "cloud" and w.cloud is None:
        return [], "no offering in the catalog rents it (it is bought: pass --deploy onprem)"
    seen = f" (offered by: {', '.join(offered)})" if offered else ""
    return [], f"no offering in the catalog {where}{seen}; --include-unpriced ranks it unpriced"


def _undominated_units(cat: Catalog, allowed: list[Offering], pricing: str) -> list[Offering]:
    """Drop an offering of the chip that another beats on every count: no dearer per chip-hour,
    no coarser a unit, no smaller a scale-up domain, no thinner a fabric per chip (RDMA where
    it has it), no slower a storage.  What is left is what a different stack could win with."""
    figures = [(o, _unit_figures(cat, o, pricing)) for o in allowed]
    kept = []
    for off, mine in figures:
        beaten = any(
            other is not off
            and all(a <= b for a, b in zip(theirs, mine, strict=True))
            and theirs != mine
            for other, theirs in figures
        )
        if not beaten:
            kept.append(off)
    return kept


def _unit_figures(cat: Catalog, off: Offering, pricing: str) -> tuple[float, ...]:
    """What an offering is compared on, each smaller-is-better (memoised per catalog)."""
    key = ("unit-figures", off.id, pricing)
    if key not in cat.memo:
        cat.memo[key] = _figures_of(cat, off, pricing)
    figures: tuple[float, ...] = cat.memo[key]
    return figures


def _figures_of(cat: Catalog, off: Offering, pricing: str) -> tuple[float, ...]:
    chip = cat.chips[off.chip]
    link = cat.interconnects.get(off.scale_out or "")
    share = offer.fabric(off, link).bandwidth_gb_s if link is not None else 0.0
    stores = offer.mountable(cat, off)
    read = max((s.read_gb_s or s.read_max_gb_s or 0.0 for s in stores), default=0.0)
    hourly = offer.chip_hour_usd(off, pricing)
    slices = tuple(off.unit_chips) != ()
    return (
        hourly, float(off.chips_per_unit), -float(offer.domain(chip, off)), -share,
        0.0 if link is not None and link.rdma else 1.0, -read, float(slices),
        0.0 if off.purchase_usd is None else 1.0,
    )  # fmt: skip


def bare_chip_allowed(job: Job) -> bool:
    """Whether a chip that no allowed offering holds is sized bare (unpriced): when --chip pins
    it, or with --include-unpriced unless --cloud or --offering names where it must come from
    (a chip the provider does not offer is no stack on that provider)."""
    w = job.workload
    if w.chip is not None:
        return True
    return w.include_unpriced and w.cloud is None and w.offering is None


def _offerings_of(cat: Catalog, chip_id: str) -> list[Offering]:
    """The chip's offerings, cheapest on-demand chip-hour first (an index built once a catalog)."""
    key = ("offerings-of",)
    if key not in cat.memo:
        index: dict[str, list[Offering]] = {}
        for o in cat.offerings.values():
            index.setdefault(o.chip, []).append(o)
        for found in index.values():
            found.sort(key=lambda o: (offer.chip_hour_usd(o, "on_demand"), o.id))
        cat.memo[key] = index
    return list(cat.memo[key].get(chip_id, []))


def _offering_problem(job: Job, off: Offering) -> str | None:
    w = job.workload
    if off.status in ("legacy", "discontinued") and not w.include_legacy:
        return f"{off.status}"
    if off.status == "announced":
        return "announced"
    if w.deploy == "cloud" and off.provider == "onprem":
        return "bought, not rented"
    if w.deploy in ("onprem", "edge") and off.provider != "onprem":
        return "rented, not bought"
    if w.cloud is not None and off.provider != w.cloud:
        return f"on {off.provider}"
    if w.interconnect is not None and off.scale_out != w.interconnect:
        return f"its fabric is {off.scale_out or 'none'}"
    priced = off.purchase_usd is not None or offer.price(off, w.pricing) is not None
    if not priced and not w.include_unpriced:
        return "unpriced"
    return None


def _where_asked(deploy: str, cloud: str | None) -> str:
    if deploy == "cloud":
        return f"rents it on {cloud}" if cloud else "rents it"
    return "sells it with a public price"


# --------------------------------------------------------------------------- framework rules


def framework_support(fw: Framework, chip: Chip) -> str | None:
    """How the framework reaches this chip (native, bridge, experimental), or None."""
    best: str | None = None
    for row in fw.runs_on:
        if row_matches(row, chip) and (
            best is None or SUPPORT_RANK[row.support] < SUPPORT_RANK[best]
        ):
            best = row.support
    return best


@rule(
    "framework-fit",
    "The framework runs on the chip and supports the task and model type.",
    ("task", "model_type", "framework", "finetune_method"),
)
def framework_rejection(job: Job, fw: Framework, chip: Chip) -> str | None:
    if framework_support(fw, chip) is None or (
        chip.runs_frameworks and fw.id not in chip.runs_frameworks
    ):
        return f"{fw.name} does not run on {chip.name} ({chip.vendor} {chip.type})"
    if job.task not in fw.tasks:
        return f"{fw.name} does not do {job.task}"
    if job.workload.model_type not in fw.model_types:
        return f"{fw.name} does not handle {job.workload.model_type} models"
    if not runs_model_type(fw, chip, job.workload.model_type):
        return f"{fw.name} does not run {job.workload.model_type} models on {chip.name}"
    if job.method in ("lora", "qlora"):
        caps = capabilities(fw, chip)
        if caps is not None and job.method not in caps.peft:
            have = ", ".join(sorted(caps.peft)) or "none"
            return (
                f"{fw.name} does not fine-tune with {job.method.upper()} (its PEFT methods: {have})"
            )
    if fw.status in ("legacy", "discontinued") and not job.workload.include_legacy:
        return f"{fw.name} is {fw.status}; pass --include-legacy"
    return None


def frameworks_for(
    job: Job, frameworks: dict[str, Framework], chip: Chip
) -> tuple[list[Framework], list[str]]:
    """Frameworks that can run this job on this chip, best support first, and why others cannot.

    Kept in the job's memo (a job is built for one catalog): the search asks for every chip's
    frameworks again and again.  The answer depends on the chip only through its family (type,
    vendor) and its framework allow-list (plan.frameworks.capabilities), except the reasons a
    pinned framework is refused, which name the chip.
    """
    if job.workload.framework:
        key: tuple[object, ...] = ("frameworks_for", chip.id)
    else:
        key = ("frameworks_for", chip.type, chip.vendor, tuple(chip.runs_frameworks or ()),
               _gates(job, frameworks, chip))  # fmt: skip
    if key not in job.cache:
        job.cache[key] = _frameworks_for(job, frameworks, chip)
    ok, why = job.cache[key]
    return list(ok), list(why)


def _frameworks_for(
    job: Job, frameworks: dict[str, Framework], chip: Chip
) -> tuple[list[Framework], list[str]]:
    pinned = job.workload.framework
    if pinned and pinned in frameworks:
        pool = [frameworks[pinned]]
    else:  # those that reach no chip of this type and vendor are rejected without a reason
        pool = _reaching(job, frameworks, chip)
    ok: list[Framework] = []
    why: list[str] = []
    for fw in pool:
        reason = framework_rejection(job, fw, chip)
        if reason is None:
            ok.append(fw)
        elif pinned:
            why.append(reason)
    caps = {fw.id: capabilities(fw, chip) for fw in ok}  # each pair worked out once here
    ok.sort(key=lambda f: _preference(job, f, caps[f.id]))
    return _undominated(job, _distinct(job, ok, caps), caps), why


def _gates(job: Job, frameworks: dict[str, Framework], chip: Chip) -> tuple[str, ...]:
    """The chip's features that some framework row requires (memo keys must tell them apart)."""
    key = ("gating-features",)
    if key not in job.cache:
        job.cache[key] = frozenset(
            f for fw in frameworks.values() for r in fw.runs_on for f in r.requires_features
        )
    gating: frozenset[str] = job.cache[key]
    return tuple(sorted(f for f in chip.features if f in gating))


def _reaching(job: Job, frameworks: dict[str, Framework], chip: Chip) -> list[Framework]:
    """The frameworks with a runs_on row for this chip's type and vendor, worked out once per
    pair in the job's memo: a large catalog holds many chips of each."""
    key = ("frameworks_reaching", chip.type, chip.vendor, _gates(job, frameworks, chip))
    if key not in job.cache:
        job.cache[key] = [f for f in frameworks.values() if framework_support(f, chip) is not None]
    found: list[Framework] = job.cache[key]
    return found


def _distinct(
    job: Job, frameworks: list[Framework], caps: dict[str, Capabilities | None]
) -> list[Framework]:
    """Drop frameworks that offer this job on this chip nothing a more mature one before them
    does not (plan.frameworks.signature): they would give the same estimate."""
    w = job.workload
    seen: set[tuple[object, ...]] = set()
    kept = []
    for fw in frameworks:
        mine = caps[fw.id]
        key = (fw.id,) if mine is None else signature(
            mine, job.task, w.model_type, w.precision, w.kv_precision, w.sparsity_pattern == "2:4"
        )  # fmt: skip
        if key not in seen:
            seen.add(key)
            kept.append(fw)
    return kept


def _undominated(
    job: Job, frameworks: list[Framework], caps: dict[str, Capabilities | None]
) -> list[Framework]:
    """Drop a framework that another, at least as mature on the chip, beats in every respect
    this job reads (plan.frameworks.dominates): it can never be the better stack."""
    w = job.workload
    kept = []
    for fw in frameworks:
        mine = caps[fw.id]
        beaten = mine is not None and any(
            other.id != fw.id
            and (theirs := caps[other.id]) is not None
            and dominates(theirs, mine, job.task, w.model_type, w.precision, w.kv_precision,
                          job.eff["memory-usable"], job.method, w.sparsity_pattern == "2:4")
            for other in frameworks
        )  # fmt: skip
        if not beaten:
            kept.append(fw)
    return kept


def _preference(
    job: Job, fw: Framework, caps: Capabilities | None
) -> tuple[int, int, int, int, str]:
    method = job.method if job.method in ("lora", "qlora") else None
    maturity, support = caps.preference(method) if caps is not None else (9, 9)
    for_task, for_model = not_built_for(fw, job.task, job.workload.model_type)
    return maturity, support, for_task, for_model, fw.id


def framework_preference(job: Job, fw: Framework, chip: Chip) -> tuple[int, int, int, int, str]:
    """Sort key: maturity on this chip and support (plan.frameworks), then libraries built for
    this task (Unsloth for fine-tuning, the serving engines for inference), then for this
    model type (PyG/DGL for graphs, TorchRec for recommenders); the id only for a stable order
    among equals.  Which framework wins is decided by the estimates; this order only breaks
    their ties."""
    return _preference(job, fw, capabilities(fw, chip))


@rule(
    "framework-bridge",
    "A framework reached through a bridge or experimental backend loses some efficiency.",
    (),
    hard=False,
)
def bridge_note(fw: Framework, chip: Chip) -> tuple[float, str | None]:
    support = framework_support(fw, chip) or "experimental"
    factor = BRIDGE_PENALTY[support]
    if support == "native":
        return factor, None
    return (
        factor,
        f"{fw.name} reaches {chip.name} through a {support} backend: efficiency × {factor:g} assumed",
    )


# --------------------------------------------------------------------------- link rules


@rule(
    "scale-out-serves-chip",
    "A scale-out fabric must serve the chip's vendor and type, and only links "
    "between nodes count: NVLink, ICI and PCIe never join nodes (except multi-node NVLink domains).",
    (),
)
def scale_out_rejection(link: Interconnect, chip: Chip) -> str | None:
    if link.scope != "scale_out":
        return f"{link.name} is a scale-up link; it does not join nodes"
    if link.serves_vendors and chip.vendor not in link.serves_vendors:
        return f"{link.name} serves {', '.join(link.serves_vendors)} chips, not {chip.vendor}"
    if link.serves_types and chip.type not in link.serves_types:
        return f"{link.name} serves {', '.join(link.serves_types)}, not {chip.type}"
    if link.status in ("legacy", "discontinued", "announced"):
        return f"{link.name} is {link.status}"
    edge_link = link.bandwidth_gb_s < 1.0
    if (chip.segment == "edge") != edge_link:
        return f"{link.name} is not a {chip.segment} network"
    if chip.segment == "consumer" and link.rdma:
        # NVIDIA's GPUDirect RDMA documentation lists data-center and professional GPUs only:
        # boxes of consumer cards are joined over plain Ethernet, not an RDMA fabric.
        return f"{link.name} is an RDMA fabric; consumer cards have no GPUDirect RDMA"
    return None


@rule(
    "no-rdma",
    "A scale-out link without RDMA adds CPU copies and latency to every collective.",
    (),
    hard=False,
)
def rdma_note(link: Interconnect | None) -> str | None:
    if link is not None and not link.rdma:
        return f"{link.name} has no RDMA: collectives go through host TCP stacks"
    return None


# --------------------------------------------------------------------------- limits on the estimate


@rule("deadline", "The job must finish within --deadline.", ("deadline",))
def check_deadline(job: Job, oc: Outcome) -> str | None:
    deadline = job.workload.deadline
    time_s = oc.metrics.get("time_s")
    if deadline is not None and not job.inference and time_s is not None and time_s > deadline:
        return f"takes {format_duration(time_s)} on {oc.spec.count} chips; the deadline is {format_duration(deadline)}"
    return None


@rule("budget", "The job must cost no more than --budget.", ("budget",))
def check_budget(job: Job, oc: Outcome) -> str | None:
    budget = job.workload.budget
    cost = oc.metrics.get("cost_usd")
    if budget is None:
        return None
    if cost is None:
        return "has no public price, so it cannot be held to --budget"
    if cost > budget:
        return f"costs {format_money(cost)}; the budget is {format_money(budget)}"
    return None


@rule("power-budget", "The whole stack's power must fit --power-budget.", ("power_budget",))
def check_stack_power(job: Job, oc: Outcome) -> str | None:
    budget = job.workload.power_budget
    power = oc.metrics.get("power_w")
    if budget is not None and power is not None and power > budget:
        return f"draws {power:.3g} W; the power budget is {budget:g} W"
    return None


OUTCOME_RULES: tuple[Callable[[Job, Outcome], str | None], ...] = (
    check_deadline,
    check_budget,
    check_stack_power,
)


def outcome_rejections(job: Job, oc: Outcome) -> list[str]:
    return [reason for check in OUTCOME_RULES if (reason := check(job, oc)) is not None]
