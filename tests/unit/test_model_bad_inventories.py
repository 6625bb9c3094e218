"""Bad inventories: one small mutation of a valid lab copy per problem kind.

Why: validation is the only gate between a human's YAML edit and every artefact derived from it.
Each case checks that the loader reports the problem at the right place (file, key path, line)
with a fix hint, that `inventory render` exits 2 and writes nothing, and that
`inventory validate --json` lists the problem in parseable JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from egovops.cli.main import cli
from egovops.model import InventoryError, Problem, load_inventory

pytestmark = pytest.mark.unit

Mutation = Callable[[Path], None]


def replace(fname: str, old: str, new: str) -> Mutation:
    """A mutation replacing the single occurrence of ``old`` in ``fname`` (fails loudly if ambiguous)."""

    def apply(inv: Path) -> None:
        path = inv / fname
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {fname}"
        path.write_text(text.replace(old, new), encoding="utf-8")

    return apply


def write(fname: str, data: bytes) -> Mutation:
    def apply(inv: Path) -> None:
        (inv / fname).write_bytes(data)

    return apply


def delete(fname: str) -> Mutation:
    def apply(inv: Path) -> None:
        (inv / fname).unlink()

    return apply


def chain(*ms: Mutation) -> Mutation:
    def apply(inv: Path) -> None:
        for m in ms:
            m(inv)

    return apply


@dataclass(frozen=True)
class Case:
    """One broken inventory and the problem it must produce."""

    name: str
    mutate: Mutation
    file: str                       # file name the problem must point at
    path: str                       # key path, exactly
    kind: str
    message: str                    # regex the message must match
    line_at: str | None = None   # the problem's line is the (first) line containing this text
    hint: str = ""                  # regex the hint must match (it is always required non-empty)


IDENTITY_END = "    image: registry.egov.ah/platform/identity:3.4.2\n"


def identity_gets(line: str) -> Mutation:
    """Add one key to the first service (identity) of services.yaml."""
    return replace("services.yaml", IDENTITY_END, IDENTITY_END.replace("    image", line + "    image"))


EXTRA_LINK = "extra_links:\n  - {id: 1, a: hefei-rt, b: huainan-rt, bandwidth: 1Gbps}\n"

CASES: list[Case] = [
    # ---- YAML and schema (per file)
    Case("yaml-malformed", replace("links.yaml", "  asn: 65034", "  asn: 65034: 1"),
         "links.yaml", "", "yaml", r"malformed YAML", line_at="asn: 65034: 1"),
    Case("yaml-duplicate-key", replace("links.yaml", "  ospf_hello_seconds: 1\n", "  ospf_hello_seconds: 1\n  ospf_hello_seconds: 2\n"),
         "links.yaml", "", "yaml", r"duplicate key 'ospf_hello_seconds'", line_at="ospf_hello_seconds: 2"),
    Case("yaml-not-utf8", write("nodes.yaml", b"nodes:\n  - {slug: \xff\xfe}\n"),
         "nodes.yaml", "", "yaml", r"malformed YAML"),
    Case("yaml-control-char", write("zones.yaml", b"zones: {}\nflows: []\nhost_firewall: [\x07]\n"),
         "zones.yaml", "", "yaml", r"malformed YAML"),
    Case("not-a-mapping", write("dr.yaml", b"- hefei\n- anqing\n"),
         "dr.yaml", "", "type", r"expected a mapping"),
    Case("empty-file", write("zones.yaml", b"# nothing here\n"),
         "zones.yaml", "", "type", r"expected a mapping"),
    Case("unknown-key", replace("links.yaml", "  bandwidth: 10Gbps", "  bandwdith: 10Gbps"),
         "links.yaml", "uplink.bandwdith", "unknown-key", r"unknown key 'bandwdith'", line_at="bandwdith"),
    Case("missing-key", replace("services.yaml",
                                "    zone: extranet\n    image: registry.egov.ah/platform/item-mgmt",
                                "    image: registry.egov.ah/platform/item-mgmt"),
         "services.yaml", "services[2].zone", "missing-key", r"required key 'zone' is missing", line_at="- slug: item-mgmt",
         hint="zone"),
    Case("wrong-type", replace("counties.yaml", "{id: 3, slug: shushan", "{id: three, slug: shushan"),
         "counties.yaml", "counties.hefei[2].id", "type", r"integer", line_at="id: three"),
    Case("bad-choice", replace("dr.yaml", "    rpo: 15m\n    rto: 1h\n    mode: async", "    rpo: 15m\n    rto: 1h\n    mode: asynch"),
         "dr.yaml", "tiers.system.mode", "choice", r"'sync' or 'async'", line_at="mode: asynch"),
    Case("missing-file", delete("zones.yaml"), "zones.yaml", "", "missing-file", r"missing file zones.yaml"),
    Case("base-loop", replace("inventory.yaml", 'version: "2026.11.1"', 'version: "2026.11.1"\nbase: .'),
         "inventory.yaml", "base", "base", r"loops", line_at="base: ."),
    Case("base-missing-folder", replace("inventory.yaml", 'version: "2026.11.1"', 'version: "2026.11.1"\nbase: ../nowhere'),
         "inventory.yaml", "base", "missing-file", r"not found", line_at="base: ../nowhere"),
    Case("base-not-a-string", replace("inventory.yaml", 'version: "2026.11.1"', 'version: "2026.11.1"\nbase: 5'),
         "inventory.yaml", "base", "type", r"string", line_at="base: 5"),
    # ---- nodes
    Case("duplicate-node-slug", replace("nodes.yaml", "{id: 2,  slug: wuhu,", "{id: 2,  slug: hefei,"),
         "nodes.yaml", "nodes[2].slug", "duplicate-slug", r"duplicate node slug 'hefei'", line_at="{id: 2,  slug: hefei"),
    Case("duplicate-node-id", replace("nodes.yaml", "{id: 2,  slug: wuhu,", "{id: 1,  slug: wuhu,"),
         "nodes.yaml", "nodes[2].id", "duplicate-id", r"duplicate node id 1", line_at="slug: wuhu,"),
    Case("two-provincial-nodes", replace("nodes.yaml",
                                         "name_en: Same-city DR centre, kind: dr",
                                         "name_en: Same-city DR centre, kind: provincial"),
         "nodes.yaml", "nodes", "topology", r"exactly one provincial node, found 2", line_at="\nnodes:"),
    Case("node-unknown-city", replace("nodes.yaml", "kind: dr, city: hefei}", "kind: dr, city: hefeii}"),
         "nodes.yaml", "nodes[17].city", "unknown-ref", r"unknown city 'hefeii'", line_at="city: hefeii"),
    Case("city-id-beyond-plan", replace("nodes.yaml", "{id: 16, slug: xuancheng", "{id: 40, slug: xuancheng"),
         "nodes.yaml", "nodes[16].id", "capacity", r"city node id 40", line_at="{id: 40"),
    Case("city-id-zero", chain(replace("nodes.yaml", "{id: 0,  slug: province", "{id: 20, slug: province"),
                               replace("nodes.yaml", "{id: 16, slug: xuancheng", "{id: 0, slug: xuancheng")),
         "nodes.yaml", "nodes[16].id", "capacity", r"city node id 0", line_at="{id: 0, slug: xuancheng"),
    Case("node-id-beyond-vrp-card", replace("nodes.yaml", "{id: 18, slug: dr-remote", "{id: 48, slug: dr-remote"),
         "nodes.yaml", "nodes[18].id", "capacity",
         r"^node 'dr-remote': id 48 does not fit a Huawei VRP card: its service LAN would be port GigabitEthernet0/1/49 ",
         line_at="{id: 48, slug: dr-remote", hint=r"^ids that fit the 48-port card: 0\.\.47 "),
    Case("node-slug-too-long", replace("nodes.yaml", "slug: huangshan,", "slug: huangshanshi,"),
         "nodes.yaml", "nodes[9].slug", "name-length", r"too long", line_at="slug: huangshanshi"),
    # ---- counties
    Case("duplicate-county-slug", replace("counties.yaml", "{id: 2, slug: luyang", "{id: 2, slug: yaohai"),
         "counties.yaml", "counties.hefei[1].slug", "duplicate-slug", r"duplicate county slug 'yaohai'", line_at="{id: 2, slug: yaohai"),
    Case("duplicate-county-id", replace("counties.yaml", "{id: 2, slug: luyang", "{id: 1, slug: luyang"),
         "counties.yaml", "counties.hefei[1].id", "duplicate-id", r"duplicate county id 1", line_at="slug: luyang"),
    Case("county-id-beyond-vrp-card", replace("counties.yaml", "{id: 3, slug: shushan", "{id: 23, slug: shushan"),
         "counties.yaml", "counties.hefei[2].id", "capacity",
         r"^county 'shushan': id 23 does not fit a Huawei VRP card: its data link on hefei-rt would be port "
         r"GigabitEthernet0/0/49 \(the card has ports 1\.\.48\)$", line_at="{id: 23, slug: shushan",
         hint=r"^ids that fit the 48-port card: 1\.\.22 "),
    Case("counties-under-unknown-city", replace("counties.yaml", "  wuhu:\n", "  wuhuu:\n"),
         "counties.yaml", "counties.wuhuu", "unknown-ref", r"unknown city 'wuhuu'", line_at="  wuhuu:"),
    Case("city-without-counties", replace("counties.yaml",
                                          "  chizhou:\n"
                                          "    - {id: 1, slug: guichi, name_zh: 贵池区}\n"
                                          "    - {id: 2, slug: dongzhi, name_zh: 东至县}\n"
                                          "    - {id: 3, slug: shitai, name_zh: 石台县}\n"
                                          "    - {id: 4, slug: qingyang, name_zh: 青阳县}\n",
                                          ""),
         "counties.yaml", "counties", "topology", r"'chizhou' has no counties", line_at="\ncounties:"),
    Case("county-slug-too-long", replace("counties.yaml", "slug: yaohai,", "slug: yaohaiyaohaiyao,"),
         "counties.yaml", "counties.hefei[0].slug", "name-length", r"too long", line_at="yaohaiyaohaiyao"),
    # ---- links
    Case("extra-link-unknown-router", replace("links.yaml",
                                              "extra_links: []\n",
                                              "extra_links:\n  - {id: 1, a: hefei-rt, b: nowhere-rt, bandwidth: 1Gbps}\n"),
         "links.yaml", "extra_links[0].b", "unknown-ref", r"unknown router 'nowhere-rt'", line_at="nowhere-rt"),
    Case("self-link", replace("links.yaml", "extra_links: []\n", "extra_links:\n  - {id: 1, a: hefei-rt, b: hefei-rt, bandwidth: 1Gbps}\n"),
         "links.yaml", "extra_links[0]", "self-link", r"to itself", line_at="b: hefei-rt"),
    Case("duplicate-extra-link-id", replace("links.yaml", "extra_links: []\n",
                                            EXTRA_LINK + "  - {id: 1, a: wuhu-rt, b: bengbu-rt, bandwidth: 1Gbps}\n"),
         "links.yaml", "extra_links[1].id", "duplicate-id", r"duplicate extra link id 1", line_at="a: wuhu-rt"),
    Case("extra-link-id-beyond-vrp-card", replace("links.yaml", "extra_links: []\n", EXTRA_LINK.replace("id: 1,", "id: 49,")),
         "links.yaml", "extra_links[0].id", "capacity", r"^extra link id 49 does not fit .* port GigabitEthernet0/4/49 ",
         line_at="{id: 49,", hint=r"^ids that fit the 48-port card: 1\.\.48 "),
    Case("industry-cloud-id-beyond-vrp-card", replace("industry.yaml", "  - id: 2\n", "  - id: 23\n"),
         "industry.yaml", "clouds[1].id", "capacity",
         r"^industry cloud '[a-z-]+': id 23 does not fit a Huawei VRP card: its \w+ link on province-rt would be port "
         r"GigabitEthernet0/0/(49|50) ", line_at="  - id: 23\n", hint=r"^ids that fit the 48-port card: 1\.\.22 "),
    Case("bad-bandwidth-unit", replace("links.yaml", "    bandwidth: 100Mbps", "    bandwidth: 100MB"),
         "links.yaml", "segments.township_access.bandwidth", "bandwidth", r"bad bandwidth '100MB'", line_at="100MB",
         hint="Gbps"),
    Case("repeated-plane", replace("links.yaml",
                                   "# province -> city backbone\n    planes: [data, video]",
                                   "# province -> city backbone\n    planes: [data, data]"),
         "links.yaml", "segments.province_city.planes", "topology", r"without repeats", line_at="[data, data]"),
    Case("uplink-without-planes", replace("links.yaml", "  asn: 65000\n  planes: [data, video]", "  asn: 65000\n  planes: []"),
         "links.yaml", "uplink.planes", "topology", r"non-empty", line_at="planes: []"),
    Case("ospf-dead-not-above-hello", replace("links.yaml", "ospf_hello_seconds: 1", "ospf_hello_seconds: 4"),
         "links.yaml", "routing.ospf_dead_seconds", "routing", r"dead interval must exceed", line_at="ospf_dead_seconds"),
    Case("uplink-asn-equals-province", replace("links.yaml", "  asn: 65000\n", "  asn: 65034\n"),
         "links.yaml", "uplink.asn", "routing", r"eBGP", line_at="  asn: 65034\n"),
    Case("uplink-peer-is-a-node", replace("links.yaml", "peer: national", "peer: hefei"),
         "links.yaml", "uplink.peer", "duplicate-slug", r"collides", line_at="peer: hefei"),
    # ---- DR
    Case("dr-pair-unknown-city", replace("dr.yaml", "- [hefei, anqing]", "- [hefei, anqingg]"),
         "dr.yaml", "city_pairs[0][1]", "unknown-ref", r"unknown city 'anqingg'", line_at="anqingg"),
    Case("dr-self-pair", replace("dr.yaml", "- [hefei, anqing]", "- [hefei, hefei]"),
         "dr.yaml", "city_pairs[0]", "self-pair", r"paired with itself", line_at="[hefei, hefei]"),
    Case("dr-unpaired-city", replace("dr.yaml", "  - [luan, bozhou]\n", ""),
         "dr.yaml", "city_pairs", "unpaired", r"'bozhou' has no backup-cooperation partner", line_at="\ncity_pairs:"),
    Case("dr-city-in-two-pairs", replace("dr.yaml", "- [luan, bozhou]", "- [luan, hefei]"),
         "dr.yaml", "city_pairs[7][1]", "dr", r"'hefei' is already in pair 0", line_at="[luan, hefei]"),
    Case("dr-pair-of-three", replace("dr.yaml", "- [luan, bozhou]", "- [luan, bozhou, hefei]"),
         "dr.yaml", "city_pairs[7]", "dr", r"this has 3", line_at="[luan, bozhou, hefei]"),
    Case("dr-unknown-tier", replace("dr.yaml", "target: dr-remote, tier: data}", "target: dr-remote, tier: dta}"),
         "dr.yaml", "provincial.remote.tier", "unknown-ref", r"unknown DR tier 'dta'", line_at="tier: dta"),
    Case("dr-target-not-dr-site", replace("dr.yaml", "target: dr-remote,", "target: hefei,"),
         "dr.yaml", "provincial.remote.target", "dr", r"not a DR site", line_at="target: hefei"),
    Case("dr-source-not-provincial", replace("dr.yaml", "{source: province, target: dr-local", "{source: hefei, target: dr-local"),
         "dr.yaml", "provincial.same_city.source", "dr", r"not the provincial node", line_at="source: hefei"),
    Case("dr-provincial-self", replace("dr.yaml", "{source: province, target: dr-local", "{source: province, target: province"),
         "dr.yaml", "provincial.same_city", "self-pair", r"same node", line_at="target: province"),
    Case("dr-no-cooperation-tier", replace("dr.yaml", "  cooperation:", "  coop:"),
         "dr.yaml", "tiers", "dr", r"no 'cooperation' tier", line_at="\ntiers:"),
    Case("dr-bad-cron", replace("dr.yaml", 'schedule: "0 2 * * *"', 'schedule: "0 2 * *"'),
         "dr.yaml", "tiers.data.schedule", "schedule", r"5-field cron", line_at='"0 2 * *"'),
    Case("dr-cron-out-of-range", replace("dr.yaml", 'schedule: "0 2 * * *"', 'schedule: "0 25 * * *"'),
         "dr.yaml", "tiers.data.schedule", "schedule", r"hour '25' outside 0-23", line_at='"0 25 * * *"'),
    Case("dr-bad-duration", replace("dr.yaml", "    rpo: 15m", "    rpo: 15min"),
         "dr.yaml", "tiers.system.rpo", "duration", r"bad duration '15min'", line_at="rpo: 15min", hint="15m"),
    # ---- addressing
    Case("overlapping-supernets", replace("addressing.yaml", "p2p: 198.18.64.0/18", "p2p: 198.18.0.0/18"),
         "addressing.yaml", "ipv4.p2p", "overlap", r"overlaps loopback", line_at="p2p: 198.18.0.0/18"),
    Case("prefix-host-bits", replace("addressing.yaml", "loopback: 198.18.0.0/20", "loopback: 198.18.0.1/20"),
         "addressing.yaml", "ipv4.loopback", "prefix", r"host bits set", line_at="198.18.0.1/20"),
    Case("ipv6-prefix-under-ipv4", replace("addressing.yaml", "management: 198.19.0.0/20", "management: fd00:35::/64"),
         "addressing.yaml", "ipv4.management", "prefix", r"not an ipv4 prefix", line_at="fd00:35::/64"),
    Case("lab-ipv4-outside-range", replace("addressing.yaml", "service: 198.18.128.0/17", "service: 10.34.128.0/17"),
         "addressing.yaml", "ipv4.service", "lab-range", r"outside the lab ranges", line_at="10.34.128.0/17"),
    Case("lab-ipv6-outside-range", replace("addressing.yaml", "service: fd00:34:1::/56", "service: 2001:db8:34:100::/56"),
         "addressing.yaml", "ipv6.service", "lab-range", r"outside the lab ranges", line_at="2001:db8:34:100::/56"),
    Case("missing-ipv6", replace("addressing.yaml",
                                 "ipv6:\n"
                                 "  loopback: fd00:34:0:1::/64\n"
                                 "  p2p: fd00:34:0:2::/64\n"
                                 "  service: fd00:34:1::/56\n"
                                 "  management: fd00:34:0:ff::/64\n"
                                 "  industry: fd00:34:2::/56\n",
                                 ""),
         "addressing.yaml", "ipv6", "missing-key", r"'ipv6' is missing", hint="dual stack"),
    Case("supernet-too-small-v4", replace("addressing.yaml", "loopback: 198.18.0.0/20", "loopback: 198.18.0.0/24"),
         "addressing.yaml", "ipv4.loopback", "capacity", r"does not fit", line_at="198.18.0.0/24"),
    Case("supernet-too-small-v6", replace("addressing.yaml", "service: fd00:34:1::/56", "service: fd00:34:1::/60"),
         "addressing.yaml", "ipv6.service", "capacity", r"does not fit", line_at="fd00:34:1::/60"),
    # ---- services and zones
    Case("classified-service", identity_gets("    classified: true\n"),
         "services.yaml", "services[0].classified", "classified", r"classified .* 'identity'", line_at="\n    classified: true"),
    Case("pc-service-missing-city", identity_gets("    only: [province, hefei]\n"),
         "services.yaml", "services[0].only", "placement", r"missing from city 'wuhu'", line_at="only: [province, hefei]"),
    Case("only-unknown-node", replace("services.yaml",
                                      "    hosting: P\n    zone: extranet\n    image: registry.egov.ah/platform/item-mgmt",
                                      "    hosting: P\n"
                                      "    zone: extranet\n"
                                      "    only: [provinse]\n"
                                      "    image: registry.egov.ah/platform/item-mgmt"),
         "services.yaml", "services[2].only[0]", "unknown-ref", r"unknown node 'provinse'", line_at="only: [provinse]"),
    Case("unknown-service-zone", replace("services.yaml",
                                         "    hosting: P+C\n    zone: internet\n    replicas: 3\n    dr_tier: system",
                                         "    hosting: P+C\n    zone: intranet\n    replicas: 3\n    dr_tier: system"),
         "services.yaml", "services[0].zone", "unknown-ref", r"unknown zone 'intranet'", line_at="zone: intranet"),
    Case("image-latest", replace("services.yaml", "identity:3.4.2", "identity:latest"),
         "services.yaml", "services[0].image", "image", r"not pinned", line_at="identity:latest"),
    Case("image-no-tag", replace("services.yaml", "registry.egov.ah/platform/identity:3.4.2", "registry.egov.ah:5000/platform/identity"),
         "services.yaml", "services[0].image", "image", r"not pinned", line_at="platform/identity\n"),
    Case("level-below-3", identity_gets("    level: 2\n"),
         "services.yaml", "services[0].level", "level", r"level 2 is below 3", line_at="level: 2"),
    Case("default-level-below-3", replace("services.yaml", "  level: 3\n", "  level: 2\n"),
         "services.yaml", "defaults.level", "level", r"level 2 is below 3", line_at="  level: 2"),
    Case("duplicate-service-slug", replace("services.yaml", "- slug: portal", "- slug: identity"),
         "services.yaml", "services[1].slug", "duplicate-slug", r"duplicate service slug 'identity'",
         line_at="- slug: identity\n    name_zh: 网上"),
    Case("service-unknown-dr-tier", replace("services.yaml", "    dr_tier: system\n" + IDENTITY_END, "    dr_tier: sytem\n" + IDENTITY_END),
         "services.yaml", "services[0].dr_tier", "unknown-ref", r"unknown DR tier 'sytem'", line_at="dr_tier: sytem"),
    Case("service-placed-nowhere", replace("services.yaml",
                                           "    hosting: P\n    zone: extranet\n    image: registry.egov.ah/platform/item-mgmt",
                                           "    hosting: P\n"
                                           "    zone: extranet\n"
                                           "    only: [hefei]\n"
                                           "    image: registry.egov.ah/platform/item-mgmt"),
         "services.yaml", "services[2].only", "placement", r"placed on no node", line_at="only: [hefei]"),
    Case("default-cpu-malformed", replace("services.yaml", "  cpu: 500m\n", "  cpu: lots\n"),
         "services.yaml", "defaults.cpu", "invalid", r"pattern", line_at="cpu: lots"),
    Case("flow-port-out-of-range", replace("zones.yaml",
                                           "port: 9102, why: metrics scrape}\n  - {from: management,     to: zone:extranet",
                                           "port: 91020, why: metrics scrape}\n  - {from: management,     to: zone:extranet"),
         "zones.yaml", "flows[6].port", "invalid", r"65535", line_at="port: 91020"),
    Case("unknown-flow-endpoint", replace("zones.yaml", "to: service:data-exchange,", "to: service:data-exchang,"),
         "zones.yaml", "flows[3].to", "unknown-ref", r"unknown flow endpoint 'service:data-exchang'", line_at="data-exchang,"),
    # ---- issue 15: values the YAML loader did not expect (each was a traceback)
    Case("impossible-date", replace("inventory.yaml", 'version: "2026.11.1"', "version: 2026-13-45"),
         "inventory.yaml", "", "yaml", r"cannot be read as its type: month must be in 1\.\.12", line_at="version: 2026-13-45"),
    Case("explicit-tag-bad-int", replace("links.yaml", "  asn: 65034", "  asn: !!int abc"),
         "links.yaml", "", "yaml", r"cannot be read as its type", line_at="asn: !!int abc"),
    Case("alias-cycle", write("dr.yaml", b"tiers: {}\nprovincial: {}\ncity_pairs: &a [*a]\n"),
         "dr.yaml", "", "yaml", r"alias refers to its own parent", line_at="city_pairs"),
    Case("alias-bomb", write("nodes.yaml", b"a: &a [1,1,1,1,1,1,1,1,1,1]\n" + b"".join(
        f"{n}: &{n} [{','.join(['*' + p] * 10)}]\n".encode() for p, n in zip("abcdef", "bcdefg", strict=True))),
         "nodes.yaml", "", "too-large", r"more than 200000 values"),
    Case("file-too-large", write("zones.yaml", b"# " + b"x" * (5 * 1024 * 1024) + b"\nzones: {}\n"),
         "zones.yaml", "", "too-large", r"more than the 4194304"),
    # ---- issue 15: field domains and strict types (each was accepted)
    Case("ospf-cost-zero", replace("links.yaml", "plane_cost: {data: 10, video: 20}", "plane_cost: {data: 0, video: 20}"),
         "links.yaml", "routing.plane_cost.data", "invalid", r"greater than or equal to 1", line_at="plane_cost:"),
    Case("ospf-cost-negative", replace("links.yaml", "plane_cost: {data: 10, video: 20}", "plane_cost: {data: 10, video: -5}"),
         "links.yaml", "routing.plane_cost.video", "invalid", r"greater than or equal to 1", line_at="plane_cost:"),
    Case("ospf-cost-too-big", replace("links.yaml", "plane_cost: {data: 10, video: 20}", "plane_cost: {data: 10, video: 70000}"),
         "links.yaml", "routing.plane_cost.video", "invalid", r"less than or equal to 65535", line_at="plane_cost:"),
    Case("bandwidth-zero", replace("links.yaml", "    bandwidth: 100Mbps", "    bandwidth: 0Gbps"),
         "links.yaml", "segments.township_access.bandwidth", "bandwidth", r"above 0", line_at="0Gbps"),
    Case("cron-step-zero", replace("dr.yaml", 'schedule: "0 2 * * *"', 'schedule: "*/0 2 * * *"'),
         "dr.yaml", "tiers.data.schedule", "schedule", r"step in minute '\*/0' outside 1-59", line_at='"*/0 2 * * *"'),
    Case("replicas-yes", replace("services.yaml", "    replicas: 3\n    dr_tier: system\n" + IDENTITY_END,
                                 "    replicas: yes\n    dr_tier: system\n" + IDENTITY_END),
         "services.yaml", "services[0].replicas", "type", r"valid integer", line_at="replicas: yes"),
    Case("bfd-a-number", replace("links.yaml", "  bfd: true", "  bfd: 1"),
         "links.yaml", "routing.bfd", "type", r"valid boolean", line_at="bfd: 1"),
    Case("version-a-date", replace("inventory.yaml", 'version: "2026.11.1"', "version: 2026-11-30"),
         "inventory.yaml", "version", "type", r"valid string", line_at="version: 2026-11-30"),
    Case("ntp-free-text", replace("addressing.yaml", "  ntp: controller", "  ntp: the box on floor 3"),
         "addressing.yaml", "noc.ntp", "invalid", r"not 'controller', an IP address or a hostname", line_at="ntp: the box"),
    Case("name-with-newline", replace("inventory.yaml", "name_zh: 安徽省电子政务(实验环境)", 'name_zh: "安徽\\n[/x]"'),
         "inventory.yaml", "name_zh", "invalid", r"pattern", line_at="name_zh:"),
    Case("inventory-name-too-long", replace("inventory.yaml", "name: anhui-lab", "name: anhui-" + "x" * 300),
         "inventory.yaml", "name", "invalid", r"at most 32 characters", line_at="name: anhui-x"),
    Case("service-slug-too-long", replace("services.yaml", "- slug: portal", "- slug: portal-" + "x" * 60),
         "services.yaml", "services[1].slug", "invalid", r"at most 63 characters", line_at="- slug: portal-x"),
    Case("service-slug-kube-system", replace("services.yaml", "- slug: portal", "- slug: kube-system"),
         "services.yaml", "services[1].slug", "invalid", r"'kube-system' is a reserved namespace", line_at="- slug: kube-system"),
    Case("service-slug-monitoring-namespace", replace("services.yaml", "- slug: portal", "- slug: egov-monitoring"),
         "services.yaml", "services[1].slug", "invalid", r"reserved namespace", line_at="- slug: egov-monitoring"),
    # ---- issue 15: names that collide only after derivation
    Case("county-slug-is-an-interface", replace("counties.yaml", "{id: 1, slug: yaohai", "{id: 1, slug: up"),
         "counties.yaml", "counties.hefei[0].slug", "name-collision", r"interface 'up-d' on hefei-rt is derived twice",
         line_at="{id: 1, slug: up"),
    Case("uplink-peer-is-a-county-router", replace("links.yaml", "peer: national", "peer: hefei-yaohai"),
         "links.yaml", "uplink.peer", "name-collision", r"router name 'hefei-yaohai-rt' is derived twice",
         line_at="peer: hefei-yaohai"),
]


def _line_of(inv: Path, fname: str, text: str) -> int:
    """1-based line where ``text`` starts in the mutated file (text may span lines).

    A leading newline anchors ``text`` at the start of a line (to skip mentions in comments).
    """
    content = (inv / fname).read_text(encoding="utf-8")
    assert text in content, f"{text!r} not in {fname}"
    return content[: content.index(text)].count("\n") + 1 + text.startswith("\n")


def _matching(problems: list[Problem], case: Case, inv: Path) -> list[Problem]:
    return [p for p in problems
            if Path(p.file).name == case.file and Path(p.file).parent.resolve() == inv.resolve()
            and p.path == case.path and p.kind == case.kind and re.search(case.message, p.message)]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_inventory_is_reported_in_place(case: Case, flat_lab: Path, tmp_path: Path) -> None:
    """The loader names the file, key path and line of the problem, with a hint, and raises."""
    case.mutate(flat_lab)
    with pytest.raises(InventoryError) as err:
        load_inventory(flat_lab)
    problems = err.value.problems
    found = _matching(problems, case, flat_lab)
    assert found, f"expected {case.kind} at {case.file} {case.path!r} ~ {case.message!r}; got:\n" + "\n".join(map(str, problems))
    p = found[0]
    assert p.hint.strip(), f"no hint for {p}"
    if case.hint:
        assert re.search(case.hint, p.hint), p.hint
    if case.line_at is not None:
        assert p.line == _line_of(flat_lab, case.file, case.line_at), str(p)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_inventory_cli_exits_2_and_writes_nothing(case: Case, flat_lab: Path, tmp_path: Path) -> None:
    """render exits 2 without creating its output folder; validate --json lists the same problem."""
    case.mutate(flat_lab)
    out = tmp_path / "out"
    runner = CliRunner()
    res = runner.invoke(cli, ["inventory", "render", "--inventory", str(flat_lab), "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert not out.exists()

    res = runner.invoke(cli, ["inventory", "validate", "--inventory", str(flat_lab), "--json"])
    assert res.exit_code == 2
    doc = json.loads(res.stdout)
    assert doc["ok"] is False
    problems = [Problem(**p) for p in doc["problems"]]
    assert _matching(problems, case, flat_lab), res.stdout
    assert all(set(p) == {"file", "path", "message", "hint", "line", "kind"} for p in doc["problems"])


def test_cases_cover_enough_kinds() -> None:
    """The issue asks for at least 25 bad-inventory cases, each a different problem."""
    assert len({c.name for c in CASES}) == len(CASES) >= 25
    assert len({c.kind for c in CASES}) >= 20


def test_flat_copy_is_the_lab(flat_lab: Path, lab_province) -> None:
    """The mutations start from an inventory that is valid and identical in plan to inventories/lab."""
    p = load_inventory(flat_lab)
    assert p.routers == lab_province.routers and p.links == lab_province.links and p.nodes == lab_province.nodes


def test_bad_render_leaves_existing_output_unchanged(flat_lab: Path, tmp_path: Path) -> None:
    """A previous good render survives a bad one byte for byte (no partial or stale writes)."""
    out = tmp_path / "out"
    runner = CliRunner()
    assert runner.invoke(cli, ["inventory", "render", "--inventory", str(flat_lab), "--out", str(out)]).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    replace("nodes.yaml", "{id: 2,  slug: wuhu,", "{id: 1,  slug: wuhu,")(flat_lab)
    res = runner.invoke(cli, ["inventory", "render", "--inventory", str(flat_lab), "--out", str(out)])
    assert res.exit_code == 2
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before


def test_problem_in_a_base_file_points_at_the_base(flat_lab: Path, tmp_path: Path) -> None:
    """An inheriting inventory reports a base file's problem in the base's file, not its own folder."""
    replace("nodes.yaml", "{id: 2,  slug: wuhu,", "{id: 1,  slug: wuhu,")(flat_lab)
    child = tmp_path / "child"
    child.mkdir()
    (child / "inventory.yaml").write_text((flat_lab / "inventory.yaml").read_text() + f"base: ../{flat_lab.name}\n")
    with pytest.raises(InventoryError) as err:
        load_inventory(child)
    hits = [p for p in err.value.problems if p.path == "nodes[2].id"]
    assert hits and Path(hits[0].file).resolve() == (flat_lab / "nodes.yaml").resolve()
    assert hits[0].line == _line_of(flat_lab, "nodes.yaml", "{id: 1,  slug: wuhu")


def test_missing_inventory_folder_exits_2(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["inventory", "validate", "--inventory", str(tmp_path / "nope"), "--json"])
    assert res.exit_code == 2
    doc = json.loads(res.stdout)
    assert [(p["kind"], p["message"]) for p in doc["problems"]] == [("missing-file", "inventory folder not found")]


def _assert_has(problems: list[Problem], file: str, path: str, kind: str) -> None:
    assert any(Path(p.file).name == file and p.path == path and p.kind == kind for p in problems), \
        f"no {kind} at {file} {path}:\n" + "\n".join(map(str, problems))


def test_several_semantic_problems_in_different_files_reported_at_once(flat_lab: Path) -> None:
    """One run lists every problem, across files, so an engineer fixes them all in one go."""
    for m in (replace("nodes.yaml", "{id: 2,  slug: wuhu,", "{id: 1,  slug: wuhu,"),
              replace("dr.yaml", "- [hefei, anqing]", "- [hefei, hefei]"),
              replace("services.yaml", "identity:3.4.2", "identity:latest"),
              replace("zones.yaml", "to: service:data-exchange,", "to: service:nothing,"),
              replace("addressing.yaml", "p2p: 198.18.64.0/18", "p2p: 198.18.0.0/18"),
              replace("links.yaml", "ospf_hello_seconds: 1", "ospf_hello_seconds: 4"),
              replace("counties.yaml", "{id: 2, slug: luyang", "{id: 2, slug: yaohai")):
        m(flat_lab)
    with pytest.raises(InventoryError) as err:
        load_inventory(flat_lab)
    ps = err.value.problems
    _assert_has(ps, "nodes.yaml", "nodes[2].id", "duplicate-id")
    _assert_has(ps, "dr.yaml", "city_pairs[0]", "self-pair")
    _assert_has(ps, "services.yaml", "services[0].image", "image")
    _assert_has(ps, "zones.yaml", "flows[3].to", "unknown-ref")
    _assert_has(ps, "addressing.yaml", "ipv4.p2p", "overlap")
    _assert_has(ps, "links.yaml", "routing.ospf_dead_seconds", "routing")
    _assert_has(ps, "counties.yaml", "counties.hefei[1].slug", "duplicate-slug")


def test_several_file_level_problems_reported_at_once(flat_lab: Path) -> None:
    """Broken YAML in one file does not hide a schema error or a missing file elsewhere."""
    for m in (replace("links.yaml", "  asn: 65034", "  asn: 65034: 1"),
              identity_gets("    replica: 3\n"),
              delete("zones.yaml"),
              replace("nodes.yaml", "{id: 2,  slug: wuhu,", "{id: 1,  slug: wuhu,")):
        m(flat_lab)
    with pytest.raises(InventoryError) as err:
        load_inventory(flat_lab)
    ps = err.value.problems
    _assert_has(ps, "links.yaml", "", "yaml")
    _assert_has(ps, "services.yaml", "services[0].replica", "unknown-key")
    _assert_has(ps, "zones.yaml", "", "missing-file")
    _assert_has(ps, "nodes.yaml", "nodes[2].id", "duplicate-id")
    res = CliRunner().invoke(cli, ["inventory", "validate", "--inventory", str(flat_lab), "--json"])
    assert res.exit_code == 2
    assert len(json.loads(res.stdout)["problems"]) == len(ps)


def test_all_addressing_problems_at_once(flat_lab: Path) -> None:
    """A malformed prefix does not hide an overlap between two others, nor a lab-range problem."""
    for m in (replace("addressing.yaml", "loopback: fd00:34:0:1::/64", "loopback: fd00:34:0:1::1/64"),
              replace("addressing.yaml", "p2p: 198.18.64.0/18", "p2p: 198.18.0.0/18"),
              replace("addressing.yaml", "management: 198.19.0.0/20", "management: 10.0.0.0/20")):
        m(flat_lab)
    with pytest.raises(InventoryError) as err:
        load_inventory(flat_lab)
    ps = err.value.problems
    _assert_has(ps, "addressing.yaml", "ipv6.loopback", "prefix")
    _assert_has(ps, "addressing.yaml", "ipv4.p2p", "overlap")
    _assert_has(ps, "addressing.yaml", "ipv4.management", "lab-range")


def test_problem_text_names_place_and_hint(flat_lab: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The human (non-JSON) report prints file:line, key path, message and hint for each problem."""
    from egovops.cli import output

    monkeypatch.setattr(output.err_console, "_width", 1000)  # no wrapping inside the long tmp path
    replace("dr.yaml", "- [hefei, anqing]", "- [hefei, anqingg]")(flat_lab)
    res = CliRunner().invoke(cli, ["inventory", "validate", "--inventory", str(flat_lab)])
    assert res.exit_code == 2
    line = _line_of(flat_lab, "dr.yaml", "anqingg")
    assert f"dr.yaml:{line} city_pairs[0][1]: unknown city 'anqingg'" in res.stderr
    assert "hint: use a city slug" in res.stderr
    assert "nothing was written" in res.stderr


def test_readme_lists_every_problem_kind() -> None:
    """README "Inventory format" names every problem kind the cases produce."""
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Inventory format\n", 1)[1].split("\n## ", 1)[0]
    assert not sorted({c.kind for c in CASES if f"`{c.kind}`" not in section})
