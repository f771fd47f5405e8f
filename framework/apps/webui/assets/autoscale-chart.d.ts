// Types of autoscale-chart.js (a browser module the unit tests import too).
export interface AutoscaleDecision {
  readonly timestamp: string | number;
  readonly value?: number | null;
  readonly target?: number | null;
  readonly from: number;
  readonly to: number;
  readonly reason?: string;
}
export interface AutoscaleApp {
  readonly appId: string;
  readonly metric?: string;
  readonly target?: number;
  readonly minInstances?: number;
  readonly maxInstances?: number;
  readonly instances?: number;
  readonly lastValue?: number | null;
  readonly decisions: readonly AutoscaleDecision[];
}
export function escapeXml(text: unknown): string;
export function drawableDecisions(app: AutoscaleApp): (AutoscaleDecision & { t: number })[];
export function autoscaleChart(app: AutoscaleApp, now: number): string;
export const AUTOSCALE_COLOURS: { readonly value: string; readonly target: string; readonly instances: string };
