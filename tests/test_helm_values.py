"""deploy/helm/values.yaml, for the official Dagster Helm chart 1.13.27: every key is one the
chart knows, and the instance the chart renders from them passes Dagster's own checks: the
instance schema, and dagster-k8s's K8sRunLauncher config schema and constructor.

No cluster and no `helm` binary here (docs/operations.md says what is not run). So the test
renders the parts of the chart's dagster.yaml that these values set, as the chart's templates
do (templates/configmap-instance.yaml and helpers/instance/_run-launcher.tpl: camelCase values
become the snake_case config fields), and hands the result to Dagster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster._config import process_config
from dagster._core.errors import DagsterInvalidConfigError
from dagster._core.instance.config import dagster_instance_config
from dagster_k8s import K8sRunLauncher

ROOT = Path(__file__).resolve().parents[1]
VALUES: dict[str, Any] = yaml.safe_load((ROOT / "deploy" / "helm" / "values.yaml").read_text())
RELEASE_NAMESPACE = "stockpipe"

# The chart's keys (chart 1.13.27: values.yaml and its pydantic schema under helm/dagster/schema)
# for every section these values touch. A key outside these is a typo the chart would ignore or
# its JSON schema would refuse at install time; this test says so without a cluster.
CHART_KEYS: dict[str, set[str]] = {
    "": {
        "global", "nameOverride", "fullnameOverride", "rbacEnabled", "imagePullSecrets",
        "dagsterWebserver", "computeLogManager", "pythonLogs", "dagster-user-deployments",
        "scheduler", "runLauncher", "postgresql", "generatePostgresqlPasswordSecret",
        "generateCeleryConfigSecret", "rabbitmq", "redis", "flower", "ingress", "dagsterDaemon",
        "busybox", "extraManifests", "migrate", "telemetry", "serviceAccount", "retention",
        "additionalInstanceConfig", "concurrency",
    },
    "global": {
        "postgresqlSecretName", "dagsterHome", "serviceAccountName", "celeryConfigSecretName",
    },
    "image": {"repository", "tag", "pullPolicy"},
    "dagsterWebserver": {
        "replicaCount", "image", "nameOverride", "pathPrefix", "service", "workspace",
        "enableReadOnly", "dbStatementTimeout", "dbPoolRecycle", "logLevel", "env",
        "envConfigMaps", "envSecrets", "deploymentLabels", "labels", "volumes", "volumeMounts",
        "annotations", "nodeSelector", "affinity", "tolerations", "podSecurityContext",
        "securityContext", "resources", "schedulerName", "readinessProbe", "livenessProbe",
        "startupProbe",
    },
    "dagsterDaemon": {
        "enabled", "image", "heartbeatTolerance", "runCoordinator", "runMonitoring", "runRetries",
        "sensors", "schedules", "env", "envConfigMaps", "envSecrets", "deploymentLabels",
        "labels", "volumes", "volumeMounts", "annotations", "nodeSelector", "affinity",
        "tolerations", "podSecurityContext", "securityContext", "resources", "schedulerName",
        "livenessProbe", "readinessProbe", "startupProbe",
    },
    "runCoordinator": {"enabled", "type", "config"},
    "queuedRunCoordinator": {
        "maxConcurrentRuns", "tagConcurrencyLimits", "dequeueIntervalSeconds",
        "dequeueUseThreads", "dequeueNumWorkers",
    },
    "runMonitoring": {
        "enabled", "startTimeoutSeconds", "cancelTimeoutSeconds", "pollIntervalSeconds",
        "maxResumeRunAttempts", "freeSlotsAfterRunEndSeconds",
    },
    "concurrency": {"enabled", "pools", "runs"},
    "concurrency.pools": {"defaultLimit", "granularity", "opGranularityRunBuffer"},
    "concurrency.runs": {"maxConcurrentRuns", "tagConcurrencyLimits"},
    "dagster-user-deployments": {"enabled", "enableSubchart", "imagePullSecrets", "deployments"},
    "deployment": {
        "name", "image", "port", "dagsterApiGrpcArgs", "codeServerArgs",
        "includeConfigInLaunchedRuns", "env", "envConfigMaps", "envSecrets", "annotations",
        "nodeSelector", "affinity", "tolerations", "podSecurityContext", "securityContext",
        "resources", "livenessProbe", "readinessProbe", "startupProbe", "labels",
        "volumeMounts", "volumes", "schedulerName", "service", "replicaCount",
    },
    "runLauncher": {"type", "config"},
    "k8sRunLauncher": {
        "image", "imagePullPolicy", "jobNamespace", "loadInclusterConfig", "kubeconfigFile",
        "envConfigMaps", "envSecrets", "envVars", "volumes", "volumeMounts", "labels",
        "resources", "schedulerName", "failPodOnRunFailure", "securityContext", "runK8sConfig",
    },
    "runK8sConfig": {
        "containerConfig", "podTemplateSpecMetadata", "podSpecConfig", "jobSpecConfig",
        "jobMetadata",
    },
    "postgresql": {
        "enabled", "image", "postgresqlHost", "postgresqlUsername", "postgresqlPassword",
        "postgresqlDatabase", "postgresqlParams", "postgresqlScheme", "service",
    },
}  # fmt: skip

DAEMON = VALUES["dagsterDaemon"]
[CODE] = VALUES["dagster-user-deployments"]["deployments"]
K8S = VALUES["runLauncher"]["config"]["k8sRunLauncher"]


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def render_instance(values: dict[str, Any]) -> dict[str, Any]:
    """The dagster.yaml the chart renders from `values` (the sections these values set)."""
    pg = values["postgresql"]
    postgres_db = {
        "username": pg["postgresqlUsername"],
        "password": {"env": "DAGSTER_PG_PASSWORD"},
        "hostname": pg["postgresqlHost"],
        "db_name": pg["postgresqlDatabase"],
        "port": pg["service"]["port"],
        "params": pg.get("postgresqlParams", {}),
        **({"scheme": pg["postgresqlScheme"]} if pg.get("postgresqlScheme") else {}),
    }
    storage = {"config": {"postgres_db": postgres_db}}
    k8s = values["runLauncher"]["config"]["k8sRunLauncher"]
    launcher: dict[str, Any] = {
        "load_incluster_config": k8s["loadInclusterConfig"],
        "job_namespace": k8s.get("jobNamespace") or RELEASE_NAMESPACE,
        "image_pull_policy": k8s["imagePullPolicy"],
        "service_account_name": "stockpipe-dagster",
        "dagster_home": {"env": "DAGSTER_HOME"},
        "instance_config_map": {"env": "DAGSTER_K8S_INSTANCE_CONFIG_MAP"},
        "postgres_password_secret": {"env": "DAGSTER_K8S_PG_PASSWORD_SECRET"},
        "env_config_maps": [{"env": "DAGSTER_K8S_PIPELINE_RUN_ENV_CONFIGMAP"}]
        + [c["name"] for c in k8s.get("envConfigMaps", [])],
    }
    if k8s.get("envSecrets"):
        launcher["env_secrets"] = [s["name"] for s in k8s["envSecrets"]]
    for key in ("envVars", "volumeMounts", "volumes", "labels", "resources", "schedulerName"):
        if k8s.get(key):
            launcher[_snake(key)] = k8s[key]
    if "failPodOnRunFailure" in k8s:
        launcher["fail_pod_on_run_failure"] = k8s["failPodOnRunFailure"]
    if k8s.get("runK8sConfig"):
        launcher["run_k8s_config"] = {_snake(k): v for k, v in k8s["runK8sConfig"].items()}
    daemon = values["dagsterDaemon"]
    monitoring = daemon["runMonitoring"]
    queued = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]
    concurrency = values["concurrency"]
    return {
        "scheduler": {
            "module": "dagster.core.scheduler",
            "class": "DagsterDaemonScheduler",
        },
        "schedule_storage": {
            "module": "dagster_postgres.schedule_storage",
            "class": "PostgresScheduleStorage",
            **storage,
        },
        "run_storage": {
            "module": "dagster_postgres.run_storage",
            "class": "PostgresRunStorage",
            **storage,
        },
        "event_log_storage": {
            "module": "dagster_postgres.event_log",
            "class": "PostgresEventLogStorage",
            **storage,
        },
        "run_launcher": {"module": "dagster_k8s", "class": "K8sRunLauncher", "config": launcher},
        "run_coordinator": {
            "module": "dagster.core.run_coordinator",
            "class": "QueuedRunCoordinator",
            "config": {_snake(k): v for k, v in queued.items()},
        },
        "run_monitoring": {
            "enabled": monitoring["enabled"],
            "start_timeout_seconds": monitoring["startTimeoutSeconds"],
            "poll_interval_seconds": monitoring["pollIntervalSeconds"],
            "max_resume_run_attempts": monitoring["maxResumeRunAttempts"],
        },
        "concurrency": {
            "runs": {"max_concurrent_runs": concurrency["runs"]["maxConcurrentRuns"]},
            "pools": {_snake(k): v for k, v in concurrency["pools"].items()},
        },
        "telemetry": {"enabled": values["telemetry"]["enabled"]},
    }  # fmt: skip


INSTANCE = render_instance(VALUES)


def _unknown_keys(section: str, mapping: dict[str, Any]) -> set[str]:
    return set(mapping) - CHART_KEYS[section]


@pytest.mark.parametrize(
    ("section", "mapping"),
    [
        ("", VALUES),
        ("global", VALUES["global"]),
        ("dagsterWebserver", VALUES["dagsterWebserver"]),
        ("image", VALUES["dagsterWebserver"]["image"]),
        ("dagsterDaemon", DAEMON),
        ("image", DAEMON["image"]),
        ("runCoordinator", DAEMON["runCoordinator"]),
        ("queuedRunCoordinator", DAEMON["runCoordinator"]["config"]["queuedRunCoordinator"]),
        ("runMonitoring", DAEMON["runMonitoring"]),
        ("concurrency", VALUES["concurrency"]),
        ("concurrency.pools", VALUES["concurrency"]["pools"]),
        ("concurrency.runs", VALUES["concurrency"]["runs"]),
        ("dagster-user-deployments", VALUES["dagster-user-deployments"]),
        ("deployment", CODE),
        ("image", CODE["image"]),
        ("runLauncher", VALUES["runLauncher"]),
        ("k8sRunLauncher", K8S),
        ("runK8sConfig", K8S["runK8sConfig"]),
        ("postgresql", VALUES["postgresql"]),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_every_key_is_one_the_chart_knows(section: str, mapping: dict[str, Any]) -> None:
    assert not _unknown_keys(section, mapping)


def test_a_misspelt_key_is_caught() -> None:
    assert _unknown_keys("k8sRunLauncher", {**K8S, "envSecret": []}) == {"envSecret"}


def test_every_dagster_role_runs_the_one_stockpipe_image() -> None:
    images = {
        (d["image"]["repository"], d["image"]["tag"])
        for d in (VALUES["dagsterWebserver"], DAEMON, CODE)
    }
    assert len(images) == 1
    # The run pods take the code server's image: no job image of their own.
    assert "image" not in K8S
    assert CODE["includeConfigInLaunchedRuns"] == {"enabled": True}
    assert CODE["codeServerArgs"] == ["--module-name", "stockpipe.definitions"]


def test_the_run_launcher_is_k8s_with_secrets_by_name_only() -> None:
    assert VALUES["runLauncher"]["type"] == "K8sRunLauncher"
    assert VALUES["generatePostgresqlPasswordSecret"] is False
    assert VALUES["global"]["postgresqlSecretName"] == "stockpipe-postgresql"
    assert K8S["envSecrets"] == CODE["envSecrets"] == [{"name": "stockpipe-secrets"}]
    assert "postgresqlPassword" not in VALUES["postgresql"]
    plain = {e["name"] for e in CODE["env"]}
    assert {"POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_DB"} <= plain
    assert not plain & {"API_KEY", "POSTGRES_PASSWORD", "DATABASE_URL"}


def test_the_rendered_run_launcher_config_passes_k8s_run_launchers_schema(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("DAGSTER_HOME", "DAGSTER_K8S_INSTANCE_CONFIG_MAP"):
        monkeypatch.setenv(name, "set-by-the-chart")
    monkeypatch.setenv("DAGSTER_K8S_PG_PASSWORD_SECRET", "stockpipe-postgresql")
    monkeypatch.setenv("DAGSTER_K8S_PIPELINE_RUN_ENV_CONFIGMAP", "stockpipe-pipeline-env")
    result = process_config(K8sRunLauncher.config_type(), INSTANCE["run_launcher"]["config"])
    assert result.success, [e.message for e in result.errors or []]
    config = result.value
    assert config["env_secrets"] == ["stockpipe-secrets"]
    assert config["postgres_password_secret"] == "stockpipe-postgresql"
    # Raw Kubernetes fields stay as Kubernetes spells them (dagster-k8s takes either case).
    assert config["run_k8s_config"]["job_spec_config"] == {"ttlSecondsAfterFinished": 600}


def test_k8s_run_launchers_schema_refuses_a_wrong_field() -> None:
    # The check above is real: a field K8sRunLauncher does not have is an error.
    wrong = {**INSTANCE["run_launcher"]["config"], "env_secret": ["stockpipe-secrets"]}
    result = process_config(K8sRunLauncher.config_type(), wrong)
    assert not result.success
    assert any("env_secret" in e.message for e in result.errors or [])


def test_k8s_run_launcher_is_built_from_that_config(tmp_path: Path) -> None:
    """The launcher's own constructor takes the config (with a kubeconfig file of a cluster
    that does not exist: building it talks to no cluster)."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
                "users": [{"name": "u", "user": {"token": "not-a-token"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    config = INSTANCE["run_launcher"]["config"]
    launcher = K8sRunLauncher(
        **{
            **config,
            "load_incluster_config": False,
            "kubeconfig_file": str(kubeconfig),
            "dagster_home": "/opt/stockpipe/dagster_home",
            "instance_config_map": "stockpipe-dagster-instance",
            "postgres_password_secret": "stockpipe-postgresql",
            "env_config_maps": ["stockpipe-pipeline-env"],
        }
    )
    assert launcher.env_secrets == ["stockpipe-secrets"]
    assert launcher.job_namespace == RELEASE_NAMESPACE
    assert launcher.fail_pod_on_run_failure is True


def test_the_rendered_instance_passes_dagsters_instance_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(INSTANCE))
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", "not-read-here")
    config, _custom_class = dagster_instance_config(str(tmp_path))
    assert config["concurrency"]["runs"]["max_concurrent_runs"] == 4
    assert config["run_monitoring"]["enabled"] is True
    assert config["run_storage"]["config"]["postgres_db"]["params"] == {
        "plugin": "stockpipe_pre_ping"
    }


def test_dagster_refuses_run_limits_in_both_places(tmp_path: Path) -> None:
    # Why values.yaml sets maxConcurrentRuns under `concurrency` only.
    both = dict(INSTANCE)
    both["run_coordinator"] = {
        **INSTANCE["run_coordinator"],
        "config": {**INSTANCE["run_coordinator"]["config"], "max_concurrent_runs": 4},
    }
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(both))
    with pytest.raises(DagsterInvalidConfigError, match="max_concurrent_runs"):
        dagster_instance_config(str(tmp_path))
