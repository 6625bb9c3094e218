"""The provincial Alertmanager's configuration, derived from the inventory's cities.

Routing: every alert with a ``city`` goes to that city's NOC receiver ``noc-<city>``; critical
alerts also to ``noc-province``; alerts without a city go to ``noc-province``. Grouped by
``[alertname, city]``. Inhibition (names agreed in monitors/README.md): a city cut off silences
that city's per-target, latency, plane and neighbour alerts (they are consequences, not causes);
a host or router down silences the other alerts of that same device.

Receivers are webhooks to the NOC controller's sink (lab: ``egovops monitor up`` runs it on the
controller's management address; production: the same endpoint on the NOC controller feeds the
paging integration).
"""

from __future__ import annotations

from typing import Any

from egovops.model.province import Province
from egovops.render import monitor_settings as settings
from egovops.render.files import dump_yaml

# The inhibition table of monitors/README.md ("Inhibition the Alertmanager config must contain"):
# (source alert names, extra source matchers, target alert names or None for "every other alert", equal)
CUTOFF_TARGETS = ("CityBackbonePlaneDown", "ExtranetTargetUnreachableIPv4", "ExtranetTargetUnreachableIPv6",
                  "ExtranetPacketLoss", "ExtranetHighLatency", "OspfNeighbourDown", "Ospf6NeighbourDown",
                  "BfdPeerDown", "BgpPeerDown")
INHIBITION: tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...] | None, tuple[str, ...]], ...] = (
    (("CityCutOff",), (), CUTOFF_TARGETS, ("city",)),
    (("CityBackbonePlaneDown",), (), ("OspfNeighbourDown", "Ospf6NeighbourDown"), ("city", "plane")),
    (("CityBackbonePlaneDown",), (), ("BfdPeerDown",), ("city",)),
    (("ExtranetTargetUnreachableIPv4", "ExtranetTargetUnreachableIPv6"), (), ("InterfaceAddressMissing",),
     ("router", "family")),
    (("HostDown",), (), None, ("node",)),
    (("RouterDown",), (), None, ("router",)),
    (("CertificateExpiry",), ('severity="critical"',), ("CertificateExpiry",), ("alertname", "instance")),
)


def _names(names: tuple[str, ...]) -> str:
    return f'alertname="{names[0]}"' if len(names) == 1 else f'alertname=~"{"|".join(names)}"'


def inhibit_rules() -> list[dict[str, Any]]:
    out = []
    for src, extra, targets, equal in INHIBITION:
        if targets is None:
            tgt = [f'alertname!="{src[0]}"']
        elif targets == src:  # same alert name: the severity tells source from target
            tgt = [_names(targets), 'severity="warning"']
        else:
            tgt = [_names(targets)]
        out.append({"source_matchers": [_names(src), *extra], "target_matchers": tgt, "equal": list(equal)})
    return out


def receivers(province: Province) -> list[str]:
    return [settings.receiver(n) for n in settings.nocs(province)]


def sink_url(province: Province, receiver: str) -> str:
    return f"http://{province.noc.controller.ipv4.ip}:{settings.SINK_PORT}/{receiver}"


def config(province: Province) -> dict[str, Any]:
    t = settings.timings(province)
    routes: list[dict[str, Any]] = [
        {"receiver": settings.receiver(settings.PROVINCE_NOC), "matchers": ['severity="critical"'], "continue": True},
    ]
    routes += [{"receiver": settings.receiver(c.slug), "matchers": [f'city="{c.slug}"']} for c in province.cities]
    return {
        "global": {"resolve_timeout": t.resolve_timeout},
        "route": {
            "receiver": settings.receiver(settings.PROVINCE_NOC),
            "group_by": ["alertname", "city"],
            "group_wait": t.group_wait, "group_interval": t.group_interval, "repeat_interval": t.repeat_interval,
            "routes": routes,
        },
        "inhibit_rules": inhibit_rules(),
        "receivers": [
            {"name": r, "webhook_configs": [{"url": sink_url(province, r), "send_resolved": True,
                                             "max_alerts": 0}]}
            for r in receivers(province)
        ],
    }


def render(province: Province) -> dict[str, str]:
    return {f"{settings.PROVINCE_NOC}/alertmanager.yml": dump_yaml(province, config(province))}
