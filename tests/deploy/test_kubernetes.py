"""The Kubernetes manifests: they parse, the Deployment runs one bot safely with both probes
and every secret from a Secret, and the ConfigMap holds a config the bot loads."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import yaml

from bot.config import AppConfig, ConfigError, load_config
from bot.config.root import SECRET_ENV
from tests.deploy.conftest import ROOT
from tests.deploy.dockerfile import parse

K8S = ROOT / "deploy" / "kubernetes"
SECRET_NAME = "upbit-bot-secrets"
#: secrets beyond SECRET_ENV: the store URL holds the PostgreSQL password in production
EXTRA_SECRETS = {"UPBIT_BOT_STORE__URL"}


def _load(name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((K8S / name).read_text()) if d is not None]


def _deployment() -> dict:
    (doc,) = _load("deployment.yaml")
    assert doc["kind"] == "Deployment"
    return doc


def _container() -> dict:
    (container,) = _deployment()["spec"]["template"]["spec"]["containers"]
    return container


def _image_user() -> int:
    df = parse((ROOT / "Dockerfile").read_text())
    (user,) = [i.value for i in df.stages()[-1] if i.keyword == "USER"]
    return int(user.split(":")[0])


def test_every_manifest_parses_and_kustomization_lists_existing_files():
    for path in sorted(K8S.glob("*.yaml")) + sorted((ROOT / "deploy").rglob("*.yml")):
        docs = list(yaml.safe_load_all(path.read_text()))
        assert docs, path
        assert all(isinstance(d, dict) for d in docs if d is not None), path
    (kustomization,) = _load("kustomization.yaml")
    assert kustomization["kind"] == "Kustomization"
    for resource in kustomization["resources"]:
        assert (K8S / resource).is_file(), resource
    (image,) = kustomization["images"]
    assert image["name"] == _container()["image"]  # the override hits the Deployment
    kinds = {d["kind"] for r in kustomization["resources"] for d in _load(r)}
    assert {"Deployment", "Service", "ConfigMap", "PersistentVolumeClaim"} <= kinds


def test_one_replica_replaced_not_rolled():
    spec = _deployment()["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}
    labels = spec["template"]["metadata"]["labels"]
    assert spec["selector"]["matchLabels"].items() <= labels.items()


def test_probes_hit_health_and_readiness_on_the_http_port():
    c = _container()
    (port,) = c["ports"]
    assert port["containerPort"] == 8080
    assert port["name"] == "http"
    live, ready = c["livenessProbe"], c["readinessProbe"]
    assert live["httpGet"] == {"path": "/healthz", "port": "http"}
    assert ready["httpGet"] == {"path": "/readyz", "port": "http"}
    assert c["startupProbe"]["httpGet"]["path"] == "/healthz"
    for probe in (live, ready):
        assert probe["timeoutSeconds"] < probe["periodSeconds"]
    # a restart needs several misses; readiness reacts faster than liveness
    assert live["failureThreshold"] * live["periodSeconds"] >= 30
    assert ready["periodSeconds"] <= live["periodSeconds"]
    startup = c["startupProbe"]
    assert startup["failureThreshold"] * startup["periodSeconds"] >= 60  # migrations, backfill


def test_runs_as_the_images_user_on_a_read_only_root():
    pod = _deployment()["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == _image_user()
    assert pod["automountServiceAccountToken"] is False
    sc = _container()["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    mounts = {m["mountPath"]: m["name"] for m in _container()["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    assert volumes[mounts["/config"]]["configMap"]["name"] == "upbit-bot-config"
    (pvc,) = _load("pvc.yaml")
    assert (
        volumes[mounts["/data"]]["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]
    )
    resources = _container()["resources"]
    assert resources["requests"]["memory"]
    assert resources["limits"]["memory"]


def test_grace_period_covers_the_bots_stop(tmp_path):
    pod = _deployment()["spec"]["template"]["spec"]
    cfg = _pod_config(tmp_path)
    # the notifier's grace, then the engine, feeds and store: generous headroom
    assert pod["terminationGracePeriodSeconds"] >= 4 * cfg.notify.stop_grace_s + 30


def test_every_secret_comes_from_the_secret():
    env = {e["name"]: e for e in _container()["env"]}
    refs = {
        name: e["valueFrom"]["secretKeyRef"]
        for name, e in env.items()
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    for name in set(SECRET_ENV.values()) | EXTRA_SECRETS:
        assert name in refs, f"{name} is not taken from a Secret"
        assert refs[name] == {**refs[name], "name": SECRET_NAME, "key": name}
        assert "value" not in env[name]
    assert "optional" not in refs["UPBIT_BOT_API_TOKEN"]  # the API on 0.0.0.0 needs it
    assert not any("value" in e and SECRET_NAME in str(e) for e in env.values())


def test_sealed_secret_example_names_every_key():
    (sealed,) = _load("sealed-secret.example.yaml")
    assert sealed["apiVersion"] == "bitnami.com/v1alpha1"
    assert sealed["kind"] == "SealedSecret"
    assert sealed["metadata"]["name"] == SECRET_NAME
    assert sealed["spec"]["template"]["metadata"]["name"] == SECRET_NAME
    assert set(sealed["spec"]["encryptedData"]) == set(SECRET_ENV.values()) | EXTRA_SECRETS
    assert "kubeseal" in (K8S / "sealed-secret.example.yaml").read_text()
    (kustomization,) = _load("kustomization.yaml")
    assert "sealed-secret.example.yaml" not in kustomization["resources"]  # placeholders


def test_service_targets_the_http_port():
    (svc,) = _load("service.yaml")
    (port,) = svc["spec"]["ports"]
    assert port["targetPort"] == "http"
    assert port["port"] == 8080
    assert svc["spec"]["selector"].items() <= (
        _deployment()["spec"]["template"]["metadata"]["labels"].items()
    )


def _pod_config(tmp_path: Path, *, without: tuple[str, ...] = ()) -> AppConfig:
    """The config the pod loads: the ConfigMap's TOML under the Deployment's environment,
    with every secret set (placeholders) unless named in ``without``."""
    (cm,) = _load("configmap.yaml")
    mounted, dotenv = tmp_path / "config.toml", tmp_path / ".env"
    mounted.write_text(cm["data"]["config.toml"])
    dotenv.write_text("")
    env = {e["name"]: e["value"] for e in _container()["env"] if "value" in e}
    assert env.pop("UPBIT_BOT_CONFIG") == "/config/config.toml"
    secrets = {name: f"placeholder-{name.lower()}" for name in SECRET_ENV.values()}
    environ = {k: v for k, v in (env | secrets).items() if k not in without}
    return load_config(mounted, environ=environ, dotenv=dotenv)


def test_configmap_toml_loads_as_the_pod_would_load_it(tmp_path):
    (cm,) = _load("configmap.yaml")
    tomllib.loads(cm["data"]["config.toml"])
    cfg = _pod_config(tmp_path)
    assert cfg.http.host == "0.0.0.0"
    assert cfg.http.port == 8080
    assert cfg.bot.log_json is True
    assert cfg.bot.mode == "paper"  # real money only on purpose
    # without the API token the pod would refuse to start: the Secret must carry it
    with pytest.raises(ConfigError, match="UPBIT_BOT_API_TOKEN"):
        _pod_config(tmp_path, without=("UPBIT_BOT_API_TOKEN",))
