// Orders test files so that the two workers mostly pick files of different
// lanes (lanes.ts): vitest's own order (failed first, then longest first)
// within each lane, the files dealt in turn from each lane, the lane with
// the most files first; unit files, which take no lane, last, to fill gaps.
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { laneOf, type Lane } from './lanes.js';

export default class LaneSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const byLane = new Map<Lane, TestSpecification[]>();
    const unit: TestSpecification[] = [];
    for (const file of await super.sort(files)) {
      const lane = laneOf(file.moduleId);
      if (lane === null) unit.push(file);
      else byLane.set(lane, [...(byLane.get(lane) ?? []), file]);
    }
    const lanes = [...byLane.values()].sort((a, b) => b.length - a.length);
    const dealt: TestSpecification[] = [];
    for (let i = 0; i < (lanes[0]?.length ?? 0); i++) {
      for (const lane of lanes) if (i < lane.length) dealt.push(lane[i]!);
    }
    return [...dealt, ...unit];
  }
}
