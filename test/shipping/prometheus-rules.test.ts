/**
 * The shipped alert rules (examples/prometheus/) pass `promtool check rules` and the unit tests of
 * sentinel-tunnel.rules.test.yml (`promtool test rules`: every alert fires when it should and stays
 * quiet when it should not); every alert has a severity, a summary, a description and a runbook
 * link to its section of docs/monitoring.md; the PrometheusRule and the Grafana dashboard are what
 * `bun scripts/monitoring-kit.ts` generates (so the Kubernetes copy cannot drift from the rules file).
 */
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  DASHBOARD_FILE,
  dashboardJson,
  PROMETHEUS_RULE_FILE,
  prometheusRule,
  RULES_FILE,
} from "../../scripts/monitoring-kit.ts";
import { makeTempDir, removeTempDir } from "../fixtures/index.ts";
import { promtool } from "../fixtures/prometheus.ts";

const UNIT_TESTS = join(import.meta.dir, "sentinel-tunnel.rules.test.yml");
const DOCS = join(import.meta.dir, "..", "..", "docs", "monitoring.md");
const read = (path: string) => readFileSync(path, "utf8");

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const groups = () => (Bun.YAML.parse(read(RULES_FILE)) as { groups: { name: string; rules: Rule[] }[] }).groups;
const alerts = () => groups().flatMap((g) => g.rules.filter((r) => r.alert));

describe("examples/prometheus: the alert rules", () => {
  test("promtool check rules passes on the rules file and on the PrometheusRule's spec", async () => {
    const dir = makeTempDir("st-promtool-");
    try {
      const spec = join(dir, "spec.yml"); // what prometheus-operator hands Prometheus
      writeFileSync(spec, Bun.YAML.stringify((Bun.YAML.parse(read(PROMETHEUS_RULE_FILE)) as { spec: object }).spec));
      for (const file of [RULES_FILE, spec]) {
        const checked = await promtool("check", "rules", file);
        expect(checked.output).toContain(`SUCCESS: ${groups().flatMap((g) => g.rules).length} rules found`);
        expect(checked.code).toBe(0);
      }
    } finally {
      removeTempDir(dir);
    }
  }, 30_000);

  test("promtool test rules: every alert's unit tests pass, each alert has a firing and a quiet case", async () => {
    const run = await promtool("test", "rules", UNIT_TESTS);
    expect(run.output).toContain("SUCCESS");
    expect(run.code).toBe(0);
    const cases = (
      Bun.YAML.parse(read(UNIT_TESTS)) as {
        tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
      }
    ).tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const { alert } of alerts()) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(
        `${alert}: ${mine.some((c) => c.exp_alerts.length > 0)} ${mine.some((c) => c.exp_alerts.length === 0)}`,
      ).toBe(`${alert}: true true`);
    }
  }, 30_000);

  test("every alert has a severity, a summary, a description and a runbook link to its docs/monitoring.md section", () => {
    const docs = read(DOCS);
    const list = alerts();
    expect(list.length).toBeGreaterThanOrEqual(15);
    for (const rule of list) {
      const name = rule.alert!;
      expect(`${name}: ${rule.labels?.severity}`).toMatch(/: (critical|warning|info)$/);
      expect(Object.keys(rule.annotations ?? {}).sort()).toEqual(["description", "runbook_url", "summary"]);
      expect(rule.annotations!.description!.length).toBeGreaterThan(150);
      const anchor = name.toLowerCase();
      expect(rule.annotations!.runbook_url).toBe(
        `https://github.com/sentinel-tunnel/sentinel-tunnel/blob/main/docs/monitoring.md#${anchor}`,
      );
      expect(docs).toContain(`\n### ${name}\n`);
    }
  });

  test("the PrometheusRule holds exactly the rules file's groups, and both generated files are up to date", () => {
    const kube = read(PROMETHEUS_RULE_FILE);
    expect(kube).toBe(prometheusRule(read(RULES_FILE))); // else: bun scripts/monitoring-kit.ts
    const resource = Bun.YAML.parse(kube) as { apiVersion: string; kind: string; spec: unknown };
    expect(resource).toMatchObject({ apiVersion: "monitoring.coreos.com/v1", kind: "PrometheusRule" });
    expect(resource.spec).toEqual(Bun.YAML.parse(read(RULES_FILE)));
    expect(read(DASHBOARD_FILE)).toBe(dashboardJson()); // else: bun scripts/monitoring-kit.ts
  });
});

describe("examples/grafana: the dashboard", () => {
  test("is an importable dashboard: unique panel ids, every query on the datasource variable, panels within 24 columns", () => {
    const board = JSON.parse(read(DASHBOARD_FILE));
    expect(board).toMatchObject({ uid: "sentinel-tunnel", title: "sentinel-tunnel" });
    const variables = board.templating.list.map((v: { name: string }) => v.name);
    expect(variables).toEqual(["datasource", "job", "instance", "database"]);
    const ids = board.panels.map((p: { id: number }) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of board.panels) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      if (p.type === "row") continue;
      expect(p.datasource).toEqual({ type: "prometheus", uid: "${datasource}" });
      expect(p.targets.length).toBeGreaterThan(0);
      for (const t of p.targets) expect(t.datasource.uid).toBe("${datasource}");
    }
    const titles = board.panels.map((p: { title: string }) => p.title).join(" | ");
    for (const topic of [
      "Ready",
      "Sessions",
      "Traffic",
      "Failovers",
      "Pause",
      "refused",
      "Sentinel cost",
      "Poll",
      "Lease",
    ])
      expect(titles).toContain(topic);
  });
});
