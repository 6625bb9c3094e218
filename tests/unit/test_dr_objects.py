"""The DR object tier without a lab: the plan from the inventory, validation, the role's templates,
credentials, and the boto3 logic (buckets, compare/verify, fail closed) against moto's S3.

Why: the lab test proves replication end to end, but only for one city pair; these pin the parts
that must hold for all 18 links and every failure mode of the checks (a missing or corrupted
replica, an unreadable store) in well under a second each.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import jinja2
import pytest
import yaml

from egovops.dr import objects, objects_s3
from egovops.model import InventoryError, load_inventory
from egovops.render import seaweed

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "object_store"


# ---------------------------------------------------------------- the plan
def test_links_cover_provincial_tiers_and_both_directions_of_every_pair(anhui_province):
    links = seaweed.links(anhui_province)
    names = {lk.name for lk in links}
    assert {"province->dr-local", "province->dr-remote"} <= names
    assert len(links) == 2 + 2 * 8
    cities = [n.slug for n in anhui_province.cities]
    assert sorted(lk.source for lk in links if lk.tier == "cooperation") == sorted(cities)
    assert sorted(lk.target for lk in links if lk.tier == "cooperation") == sorted(cities)
    assert {lk.tier for lk in links if lk.source == "province"} == {"system", "data"}
    for lk in links:
        assert lk.target_bucket == f"replica-{lk.source}" and lk.unit == f"egov-objsync-{lk.source}"


def test_links_among_keeps_only_links_with_both_ends_up(anhui_province):
    got = {lk.name for lk in seaweed.links(anhui_province, among=["province", "dr-local", "hefei", "wuhu"])}
    assert got == {"province->dr-local"}  # hefei's partner anqing and wuhu's partner bengbu are not up


def test_partner_data_stays_apart_and_never_loops(anhui_province):
    """hefei's replica at anqing excludes the replica hefei keeps for anqing (else anqing's data would
    come back to it inside replica-hefei) and SeaweedFS's own bookkeeping."""
    assert seaweed.partner(anhui_province, "hefei") == "anqing"
    assert seaweed.excluded_paths(anhui_province, "hefei") == ["/buckets/.system", "/buckets/replica-anqing"]
    assert seaweed.excluded_paths(anhui_province, "province") == ["/buckets/.system"]
    with pytest.raises(ValueError, match="not a city of any"):
        seaweed.partner(anhui_province, "province")


def test_role_vars_pull_from_the_source_extranet_address(anhui_province):
    v = seaweed.role_vars(anhui_province, "anqing")
    assert v["object_store_ip"] == str(anhui_province.node("anqing").address.ipv4.ip)
    (sync,) = v["object_store_syncs"]
    hefei = anhui_province.node("hefei")
    assert sync["source_filer"] == f"{hefei.address.ipv4.ip}:8888"
    assert sync["target_path"] == "/buckets/replica-hefei" and sync["tier"] == "cooperation"
    assert [s["name"] for s in seaweed.role_vars(anhui_province, "province")["object_store_syncs"]] == []
    assert [s["name"] for s in seaweed.role_vars(anhui_province, "dr-remote")["object_store_syncs"]] == ["province"]


def test_buckets_per_site(anhui_province):
    own = ["elicence", "case-attachments", "exchange"]
    assert seaweed.buckets_at(anhui_province, "hefei") == own + ["replica-anqing"]
    assert seaweed.buckets_at(anhui_province, "dr-remote") == own + ["replica-province", "pgbackrest"]
    assert seaweed.buckets_at(anhui_province, "province") == own


def test_endpoint_is_the_stacks_endpoint(lab_province):
    from egovops.render.pulumi_config import stack_config
    from egovops.stacks.config import parse

    for site in ("province", "dr-remote", "chuzhou"):
        url = objects.endpoint(lab_province, site)
        assert url == f"http://{lab_province.node(site).management.ipv4.ip}:8333"
        assert parse(stack_config(lab_province, lab_province.node(site))["config"]).s3_endpoint == url
    with pytest.raises(objects.ObjectsInputError, match="unknown site 'atlantis'"):
        objects.endpoint(lab_province, "atlantis")


def test_pgbackrest_repo_names_the_remote_store_and_no_secret(lab_province, tmp_path, monkeypatch):
    monkeypatch.setenv("EGOVOPS_LAB_DIR", str(tmp_path))
    repo = objects.pgbackrest_repo(lab_province)
    assert repo["site"] == "dr-remote" and repo["bucket"] == "pgbackrest" and repo["uri_style"] == "path"
    assert repo["endpoint"] == str(lab_province.node("dr-remote").address.ipv4.ip) and repo["port"] == 8333
    key, secret = objects.credentials(lab_province, "pgbackrest")
    assert secret not in json.dumps(repo) and key not in json.dumps(repo)
    path = Path(repo["credentials_file"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "PGBACKREST_REPO1_S3_KEY_SECRET=" in path.read_text()
    # generated once, reused
    assert objects.credentials(lab_province, "pgbackrest") == (key, secret)
    assert objects.credentials(lab_province) != (key, secret)


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize("old,new,needle", [
    ("{name: exchange,         service: data-exchange}", "{name: replica-x, service: data-exchange}", "reserved"),
    ("{name: exchange,         service: data-exchange}", "{name: exchange, service: no-such-service}", "unknown service"),
    ("{name: exchange,         service: data-exchange}", "{name: Exchange_1, service: data-exchange}", "pattern"),
    ("{name: exchange,         service: data-exchange}", "{name: elicence, service: data-exchange}", "listed twice"),
    ("filer_port: 8888", "filer_port: 9333", "ports clash"),
    ("s3_port: 8333", "s3_port: 60000", "less than or equal"),
])
def test_bad_object_store_section_is_rejected(flat_lab, old, new, needle):
    dr = flat_lab / "dr.yaml"
    text = dr.read_text(encoding="utf-8")
    assert text.count(old) == 1
    dr.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(InventoryError) as exc:
        load_inventory(flat_lab)
    assert needle in str([p.message for p in exc.value.problems])


def test_firewall_must_open_the_replication_ports(flat_lab):
    zones = flat_lab / "zones.yaml"
    text = zones.read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines(keepends=True) if ln.strip().startswith("- {port: 18888"))
    zones.write_text(text.replace(line, ""), encoding="utf-8")
    with pytest.raises(InventoryError) as exc:
        load_inventory(flat_lab)
    assert any("tcp/18888 from extranet" in p.message for p in exc.value.problems)


# ---------------------------------------------------------------- the role
def _render(template: str, **vars_) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(ROLE / "templates"), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    env.filters["to_json"] = json.dumps
    return env.get_template(template).render(**vars_)


def _defaults(province, site) -> dict:
    d = yaml.safe_load((ROLE / "defaults/main.yml").read_text())
    plain = {k: v for k, v in d.items() if not (isinstance(v, str) and "{{" in v)}
    return {**plain, **seaweed.role_vars(province, site)}


def test_sync_unit_renders_active_passive_pull_with_exclusions(anhui_province):
    v = _defaults(anhui_province, "anqing")
    (item,) = v["object_store_syncs"]
    text = _render("egov-objsync.service.j2", item=item, **v)
    exec_line = next(ln for ln in text.splitlines() if ln.startswith("ExecStart="))
    hefei = anhui_province.node("hefei").address.ipv4.ip
    assert "filer.sync -isActivePassive" in exec_line
    assert f"-a={hefei}:8888" in exec_line and "-b=127.0.0.1:8888" in exec_line
    assert "-a.excludePaths=/buckets/.system,/buckets/replica-anqing" in exec_line
    assert "-b.path=/buckets/replica-hefei" in exec_line
    assert text.startswith("# egovops roles/object_store: replication unit")  # the marker DR-OBJ-05 removes by
    assert "KillSignal=SIGKILL" in text and "Restart=always" in text


def test_store_unit_renders_ports_and_sigkill(anhui_province):
    v = _defaults(anhui_province, "province")
    text = _render("egov-objects.service.j2", **v)
    exec_line = next(ln for ln in text.splitlines() if ln.startswith("ExecStart="))
    for flag in ("-s3.port=8333", "-filer.port=8888", "-master.port=9333", "-volume.port=8080",
                 "-s3.port.iceberg=0", "-s3.port.lance=0", f"-ip={anhui_province.node('province').address.ipv4.ip}",
                 "-s3.config=/etc/egov-objects/s3-identities.json", "-master.telemetry=false",
                 "-master.electionTimeout=2s"):
        assert flag in exec_line
    assert "KillSignal=SIGKILL" in text and "User=egov-objects" in text


def test_identities_render_valid_json():
    ids = [{"name": "egovops-admin", "access_key": "AK", "secret_key": 'se"cret', "actions": ["Admin", "Read"]},
           {"name": "pgbackrest", "access_key": "PK", "secret_key": "ps", "actions": ["Read:pgbackrest"]}]
    data = json.loads(_render("s3-identities.json.j2", object_store_identities=ids))
    assert data["identities"][0]["credentials"][0]["secretKey"] == 'se"cret'
    assert data["identities"][1]["actions"] == ["Read:pgbackrest"]


def test_role_tasks_are_named_tagged_and_secrets_not_logged():
    tasks = yaml.safe_load((ROLE / "tasks/main.yml").read_text())
    defaults = yaml.safe_load((ROLE / "defaults/main.yml").read_text())
    for t in tasks:
        assert t["name"].split(" | ")[0] in ("PRELIM",) or t["name"].startswith("DR-OBJ-0"), t["name"]
        assert t.get("tags"), t["name"]
        control = t["name"].split(" | ")[0]
        if control.startswith("DR-OBJ"):
            switch = "object_store_" + control.lower().replace("-", "_")
            assert switch in defaults, switch
        if "identities" in json.dumps(t.get("ansible.builtin.template", {})):
            assert t.get("no_log") is True, t["name"]
        assert not any(k in t for k in ("ansible.builtin.shell", "ansible.builtin.command", "ansible.builtin.raw")), t["name"]


# ---------------------------------------------------------------- boto3 logic against moto
moto = pytest.importorskip("moto")
ENDPOINT = "http://s3.site.lab:8333"


@pytest.fixture
def s3(monkeypatch):
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "us-east-1", "MOTO_S3_CUSTOM_ENDPOINTS": ENDPOINT}.items():
        monkeypatch.setenv(k, v)
    with moto.mock_aws():
        from egovops.stacks.s3 import client

        yield client(ENDPOINT, credentials=("testing", "testing"))


def _replicate(s3, buckets, replica):
    """What filer.sync does, by hand: every object of the buckets under <bucket>/ of the replica bucket."""
    for b in buckets:
        for key in objects_s3.listing(s3, b):
            body = s3.get_object(Bucket=b, Key=key)["Body"].read()
            s3.put_object(Bucket=replica, Key=f"{b}/{key}", Body=body)


def test_ensure_buckets_versions_and_expires_noncurrent_idempotently(s3):
    first = objects_s3.ensure_buckets(s3, ["elicence", "replica-hefei"], {"elicence": 30})
    again = objects_s3.ensure_buckets(s3, ["elicence", "replica-hefei"], {"elicence": 30})
    assert [a["created"] for a in first] == [True, True] and [a["created"] for a in again] == [False, False]
    assert all(a["versioning"] == "Enabled" for a in again)
    rules = s3.get_bucket_lifecycle_configuration(Bucket="elicence")["Rules"]
    assert rules[0]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    assert "lifecycle" not in again[1]


def test_compare_finds_missing_and_corrupted_replicas(s3):
    objects_s3.ensure_buckets(s3, ["elicence", "exchange", "replica-hefei"], {})
    written = objects_s3.write_objects(s3, "hefei", "elicence", 5, "t") + \
        objects_s3.write_objects(s3, "hefei", "exchange", 3, "t", size=100)
    assert len(written) == 8 and all(len(w.sha256) == 64 for w in written)
    _replicate(s3, ["elicence", "exchange"], "replica-hefei")
    ok = objects_s3.compare(s3, ["elicence", "exchange"], s3, "replica-hefei")
    assert ok.ok and ok.checked == 8
    s3.delete_object(Bucket="replica-hefei", Key="elicence/t/000001")
    s3.put_object(Bucket="replica-hefei", Key="exchange/t/000002", Body=b"x" * 100)  # same size, other bytes
    deep = objects_s3.compare(s3, ["elicence", "exchange"], s3, "replica-hefei", deep=True)
    assert deep.missing == ["elicence/t/000001"] and deep.mismatched == ["exchange/t/000002"] and not deep.ok
    assert deep.oldest_unsynced is not None
    shallow = objects_s3.compare(s3, ["elicence", "exchange"], s3, "replica-hefei", deep=False)
    assert shallow.missing == ["elicence/t/000001"] and shallow.mismatched == ["exchange/t/000002"]  # ETag differs
    by_record = objects_s3.verify_written(s3, "replica-hefei", written)
    assert by_record.missing == ["elicence/t/000001"] and by_record.mismatched == ["exchange/t/000002"]


def test_unreadable_side_is_an_error_never_all_present(s3):
    objects_s3.ensure_buckets(s3, ["elicence"], {})
    objects_s3.write_objects(s3, "hefei", "elicence", 2, "t")
    with pytest.raises(objects_s3.VerifyError, match="replica-gone"):
        objects_s3.compare(s3, ["elicence"], s3, "replica-gone")
    with pytest.raises(objects_s3.VerifyError):
        objects_s3.verify_written(s3, "replica-gone", [])


def test_writer_is_bounded(s3):
    objects_s3.ensure_buckets(s3, ["elicence"], {})
    for bad in (0, objects_s3.MAX_WRITE_COUNT + 1):
        with pytest.raises(ValueError):
            objects_s3.write_objects(s3, "hefei", "elicence", bad, "t")
    with pytest.raises(ValueError):
        objects_s3.write_objects(s3, "hefei", "elicence", 1, "t", size=objects_s3.MAX_OBJECT_BYTES + 1)
    assert objects_s3.write_objects(s3, "hefei", "no-such-bucket", 3, "t") == []  # refused: nothing acknowledged


# ---------------------------------------------------------------- status and metrics (fail closed)
def _fake_lab(monkeypatch, province, s3, sites, sync_problem=None):
    monkeypatch.setattr(objects, "deployed_sites", lambda p: sites)
    monkeypatch.setattr(objects, "client", lambda p, site, timeout=10.0: s3)
    monkeypatch.setattr(objects, "_sync_active", lambda p, link: sync_problem)


def test_status_and_metrics_in_sync(monkeypatch, lab_province, s3):
    objects_s3.ensure_buckets(s3, ["elicence", "case-attachments", "exchange", "replica-province"], {})
    objects_s3.write_objects(s3, "province", "elicence", 3, "t")
    _replicate(s3, ["elicence"], "replica-province")
    _fake_lab(monkeypatch, lab_province, s3, ["province", "dr-local"])
    (st,) = objects.status(lab_province)
    assert (st.source, st.target, st.tier, st.healthy, st.lag_seconds) == ("province", "dr-local", "system", True, 0.0)
    assert st.objects_source == 3 and st.objects_target == 3
    samples = objects.metrics(lab_province)
    assert {s.name for s in samples} == {"egov_dr_replication_lag_seconds", "egov_dr_last_sync_timestamp_seconds",
                                         "egov_dr_replication_healthy"}
    assert all(s.labels == {"tier": "system", "source": "province", "target": "dr-local", "store": "objects"}
               for s in samples)


def test_status_unhealthy_when_replication_unit_down_or_behind(monkeypatch, lab_province, s3):
    objects_s3.ensure_buckets(s3, ["elicence", "case-attachments", "exchange", "replica-province"], {})
    objects_s3.write_objects(s3, "province", "elicence", 2, "t")
    _fake_lab(monkeypatch, lab_province, s3, ["province", "dr-local"], sync_problem="unit failed")
    (st,) = objects.status(lab_province)
    assert not st.healthy and "unit failed" in st.problem and st.lag_seconds is not None and st.lag_seconds >= 0
    assert st.objects_target == 0
    monkeypatch.setattr(objects, "_sync_active", lambda p, link: None)
    tiers = {t.name: t for t in lab_province.dr_tiers}
    monkeypatch.setattr(objects.time, "time", lambda: 10 ** 10)  # far past the system tier's RPO
    (st,) = objects.status(lab_province)
    assert not st.healthy and "exceeds" in st.problem and st.lag_seconds > tiers["system"].rpo_seconds


def test_unreadable_store_is_unhealthy_and_fails_the_scrape(monkeypatch, lab_province, s3):
    _fake_lab(monkeypatch, lab_province, s3, ["province", "dr-local"])  # no buckets at all: listing fails
    (st,) = objects.status(lab_province)
    assert not st.healthy and st.problem.startswith("cannot read") and st.lag_seconds is None
    with pytest.raises(objects.ObjectsError, match="province->dr-local"):
        objects.metrics(lab_province)


def test_bad_input_names_the_input(lab_province, monkeypatch, tmp_path):
    monkeypatch.setenv("EGOVOPS_LAB_DIR", str(tmp_path))  # no lab up there
    with pytest.raises(objects.ObjectsInputError, match="not up: hefei"):
        objects.ensure(lab_province, ["hefei"])
    with pytest.raises(objects.ObjectsInputError, match="does not replicate"):
        objects.verify(lab_province, "hefei", "wuhu")
    with pytest.raises(objects.ObjectsInputError, match="not a city"):
        objects.drill_city_pair_loss(lab_province, "province")
    with pytest.raises(objects.ObjectsInputError, match="not up"):
        objects.drill_city_pair_loss(lab_province, "hefei")
    assert not any(tmp_path.rglob("*.env"))  # nothing generated for a refused run
