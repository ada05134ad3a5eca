import type { ScheduleRunNotification } from '@switchboard/protocol';
import * as vscode from 'vscode';
import type { SwitchboardClient } from './client/switchboard-client.js';

const KEPT_RUNS = 50;

/** Scheduled runs: the user's schedules with their last run, and a notice when a run of theirs ends. */
export class ScheduledRuns implements vscode.Disposable {
  private readonly recent: ScheduleRunNotification[] = [];
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly client: SwitchboardClient,
    output: vscode.LogOutputChannel,
    onRunEnded: () => void,
  ) {
    this.subscription = client.onScheduleRun((run) => {
      this.recent.push(run);
      if (this.recent.length > KEPT_RUNS) this.recent.shift();
      onRunEnded();
      // A skipped slot is routine (the previous run was still going); the log is enough.
      if (run.status === 'skipped') return output.info(`Scheduled run "${run.scheduleName}" skipped: ${run.reason ?? ''}`);
      const text =
        run.status === 'succeeded'
          ? `Scheduled run "${run.scheduleName}" finished.`
          : `Scheduled run "${run.scheduleName}" failed: ${run.reason ?? 'see its session'}`;
      const show = run.status === 'succeeded' ? vscode.window.showInformationMessage : vscode.window.showErrorMessage;
      void show(text, ...(run.sessionId ? ['Open Session'] : [])).then((choice) => {
        if (choice === 'Open Session' && run.sessionId) void vscode.commands.executeCommand('switchboard.openSession', run.sessionId);
      });
    });
  }

  /** Run endings received since the window opened, oldest first. */
  received(): readonly ScheduleRunNotification[] {
    return this.recent;
  }

  /** `Switchboard: Scheduled Runs…`: each schedule with its next and last run; picking one opens its last run's session. */
  async show(): Promise<void> {
    const { items } = await this.client.request('schedule/list', {});
    if (items.length === 0)
      return void vscode.window.showInformationMessage(
        'You have no scheduled runs. Create one with POST /api/v1/schedules (see the README).',
      );
    const picked = await vscode.window.showQuickPick(
      items.map((schedule) => {
        const last = schedule.lastRun;
        return {
          label: `${schedule.enabled ? '$(clock)' : '$(circle-slash)'} ${schedule.name}`,
          description: `${schedule.cron} (${schedule.timeZone}) · ${schedule.agent}`,
          detail: [
            schedule.nextRunAt ? `next ${new Date(schedule.nextRunAt).toLocaleString()}` : 'disabled',
            last
              ? `last: ${last.status}${last.reason ? ` (${last.reason})` : ''} at ${new Date(last.startedAt).toLocaleString()}`
              : 'never ran',
          ].join(' · '),
          sessionId: last?.sessionId ?? null,
        };
      }),
      { title: 'Scheduled runs', placeHolder: 'Pick one to open its last run', matchOnDetail: true },
    );
    if (picked?.sessionId) await vscode.commands.executeCommand('switchboard.openSession', picked.sessionId);
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
