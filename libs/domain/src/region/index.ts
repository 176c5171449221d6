export { REGION_STREAM_ID, regionDecider } from './region.decider';
export type {
  FenceRegionData,
  PromoteRegionData,
  RegionCommand,
  RegionEvent,
  RegionFencedData,
  RegionPromotedData,
  RegionState,
} from './region.decider';
