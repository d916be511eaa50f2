# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This file only documents the module; the work is done by the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fleet_report
short_description: Build the fleet licensing report (JSON, CSV, Markdown, HTML) from per-host results
version_added: 0.1.0
description:
  - Runs on the controller only. Reads the per-host results that the
    C(remote_desktop.licensing.licensing_report) playbook saved (one C(<inventory_hostname>.json) per
    host, from one run or from every slice of a sliced AWX job) and writes the fleet report.
  - C(report.json), a stable document (C(schema_version) 2; the JSON Schema is
    C(schemas/fleet_report.schema.json) in the collection's source) with one record per host and a summary.
  - C(report.csv), one row per host with the columns host, status, read_at, stale, os, mode, mode_source,
    license_servers, grace_days_left, grace_state, grace_class, drift_count, warnings, error.
  - C(report.md), a summary, the grace days histogram as a table and a host table to paste into a ticket.
  - C(report.html), one self-contained page (no script, nothing fetched) with a histogram of grace days
    left (buckets that follow the thresholds, each bar split by grace class) and a chart of hosts per
    class, so the page stays the same height at 10,000 hosts, a legend saying what each colour means,
    counts per licensing mode and per OS, the drift table, the hosts that could not be read, and every
    host with when it was read and its warnings (tables of more than 200 rows start folded; every host
    is also in C(report.csv)).
  - Honest by construction. Without O(baseline) the report says C(no baseline given) and C(drift_count)
    is null, never "no drift". A configured host whose grace period has ended is class V(unknown) (not
    verified), not V(ok). A result saved by an earlier run (another C(run_id)) is marked C(stale), or
    left out with O(stale=exclude); a stale host is counted as stale only, never as reachable, unreachable
    or failed of this run.
  - With the diagnose playbook's results in C(diagnosis/) beside O(results_dir), a Diagnosis section and a
    CAL capacity view are added, over the report's hosts. A host's diagnosis is combined with its row only
    when it comes from the same run (C(run_id)) as the host's licensing result; it then re-classes the
    grace period (0 days left is ok only with a working license server), and a critical diagnosis makes
    the host one of C(summary.critical_hosts). A diagnosis of another run is listed with its run and
    time, marked, and counted nowhere. Run C(diagnose) and C(licensing_report) with the same C(run_id).
    With the C(csv) format the section is also written as C(diagnosis.csv) (host, state, grace_class,
    finding_id, severity, summary, remedy, run_id, read_at, combined) and C(cal_capacity.csv).
  - Hosts listed in O(hosts) without a saved result are reported as C(missing); hosts whose saved
    result says unreachable are reported as C(unreachable).
  - Without O(hosts) (for example the C(fleet_report) playbook run with no inventory), the report covers
    every host of the run manifests that C(licensing_report) saved for the report's run (C(runs/) beside
    O(results_dir), one per play or slice) plus every saved result, so a host without a result is still
    C(missing) and no inventory has to be loaded. Without a manifest either, only hosts with a saved
    result are covered, and C(summary.hosts_source) says so.
  - O(results_dir) and O(output_dir) are refused when they are inside an installed collection (an
    C(ansible_collections) directory), which a reinstall or upgrade deletes.
  - Requires the C(jmespath) Python library on the controller; the summary is computed with jmespath queries.
options:
  results_dir:
    description: The directory of per-host result files.
    type: path
    required: true
  hosts:
    description:
      - Every host the report must cover, normally the inventory group the collection ran against,
        so that a host with no result shows up.
      - Empty takes the hosts of the run's manifests (written by the C(licensing_report) playbook) and every
        host with a result file; with no manifest, the hosts that have a result file.
    type: list
    elements: str
    default: []
  output_dir:
    description: Where the report files are written.
    type: path
    required: true
  formats:
    description: Which files to write.
    type: list
    elements: str
    choices: [json, csv, md, html]
    default: [json, csv, md, html]
  warning_days:
    description: Grace days left at or under which a host is V(warning) (while licensing is not configured).
    type: int
    default: 30
  critical_days:
    description: Grace days left at or under which a host is V(critical).
    type: int
    default: 7
  baseline:
    description:
      - A drift baseline, as for the P(remote_desktop.licensing.licensing_drift#filter) filter (C(mode),
        C(license_servers), C(forbid_policy_conflicts), C(min_grace_days)). Without one, no drift is
        computed and the report says so.
    type: dict
  run_id:
    description:
      - The run this report is for. Saved results carrying another C(run_id) (or none) are stale.
      - Empty takes the C(run_id) of the most recently saved result. For a workflow of sliced jobs, pass
        the same value every slice saved with (for example the workflow job id).
    type: str
    default: ""
  stale:
    description: V(show) lists stale results marked as such; V(exclude) leaves their data out (status V(stale)).
    type: str
    choices: [show, exclude]
    default: show
attributes:
  check_mode:
    support: full
    description: Builds the report and returns the summary; writes no file.
  diff_mode:
    support: none
    description: Not applicable.
  platform:
    support: full
    platforms: posix
    description: Runs on the Ansible controller; it contacts no managed host.
extends_documentation_fragment:
  - remote_desktop.licensing.group_defaults
author:
  - remote_desktop.licensing contributors (@remote-desktop-licensing)
"""

EXAMPLES = r"""
- name: Build the report from what every slice saved
  remote_desktop.licensing.fleet_report:
    results_dir: /runner/artifacts/licensing
    hosts: "{{ groups['rds_session_hosts'] }}"
    output_dir: ~/.ansible/remote_desktop.licensing/reports/licensing_report
    baseline: {mode: per_user, license_servers: [ls01.example.com]}
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
run_id:
  description: The run the report is for (stale results are those of other runs).
  returned: always
  type: str
output_dir:
  description: Where the report files are (or would be) written.
  returned: always
  type: str
files:
  description: The files written, by format.
  returned: outside check mode
  type: dict
  sample: {html: /srv/report/report.html, json: /srv/report/report.json}
summary:
  description: The report's summary, as in report.json.
  returned: always
  type: dict
  contains:
    hosts:
      description: Hosts in the report.
      type: int
    reachable:
      description: Hosts whose licensing state was read in this run (stale results are not counted).
      type: int
    unreachable:
      description: Hosts this run could not reach (a stale result that says unreachable is only in RV(summary.stale)).
      type: list
      elements: str
    failed:
      description: Hosts whose task failed in this run (stale results are only in RV(summary.stale)).
      type: list
      elements: str
    missing:
      description: Hosts with no saved result.
      type: list
      elements: str
    by_mode:
      description: Reachable hosts per effective licensing mode.
      type: dict
    by_os:
      description: Reachable hosts per operating system.
      type: dict
    by_grace_class:
      description: Reachable hosts per grace class.
      type: dict
    drift_checked:
      description: Whether a baseline was given (without one, drift was not checked).
      type: bool
    drifted_hosts:
      description: Hosts with at least one drifted setting (empty when no baseline was given).
      type: list
      elements: str
    stale:
      description: Hosts shown with a result from an earlier run.
      type: list
      elements: str
    excluded_stale:
      description: Hosts whose earlier-run result was left out (O(stale=exclude)).
      type: list
      elements: str
    critical_hosts:
      description:
        - Hosts whose grace class is critical, and hosts whose diagnosis of the same run as their licensing
          result is critical (the union of RV(summary.critical_by_grace) and RV(summary.critical_by_diagnosis)).
        - The playbooks publish its length as C(licensing_critical_count).
      type: list
      elements: str
    critical_by_grace:
      description: Hosts whose grace class is critical.
      type: list
      elements: str
    critical_by_diagnosis:
      description: Hosts whose diagnosis, of the same run as their licensing result, is critical.
      type: list
      elements: str
    hosts_source:
      description:
        - Where the host list came from. V(hosts) is the O(hosts) option, V(run_manifest) the run's manifests
          plus the saved results, V(result_files) the saved results alone (a host that never saved one is not listed).
      type: str
    grace_histogram:
      description:
        - Session Hosts that were read, by grace days left. One item per bucket (V(ended (0 or less)), ranges
          ending at each threshold and at 30, 60, 90 and 120 days, over the last mark, V(no day count)), with
          C(label), C(min), C(max) (null when open), C(hosts) and C(by_class) (hosts per grace class).
      type: list
      elements: dict
"""
