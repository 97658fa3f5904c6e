/**
 * Exploring a library: maps (computed, listed, read), map fields and item search (by filters, or by text with CLIP).
 */
import type { SearchOptions, SearchResult, MapField, MapFieldOptions } from '../../common/api.ts';
import type { MapData, MapInfo, MapParams } from '../../common/types.ts';
import type { JobInfo } from '../../common/jobs.ts';
import { readSnapshot } from '../jobs.ts';
import { getMapData, listMaps, mapJob, type MetricRows } from '../map/maps.ts';
import { mapField } from '../map/fields.ts';
import { searchItems } from '../curation/search.ts';
import { searchByText } from '../curation/text-search.ts';
import { DomainService, type ServiceContext } from './context.ts';

export class ExploreService extends DomainService {
  /** `metric`: the model's vectors through its learned metric when one is used (the map is made of them), else null */
  constructor(ctx: ServiceContext, private readonly metric: (model: string) => Promise<MetricRows | null> = async () => null) { super(ctx); }

  async computeMap({ model, params }: { model: string; params: MapParams }): Promise<JobInfo<'map'>> {
    const spec = { model, params };
    return this.jobs.start('map', spec, async (ctx) => mapJob(this.lib, spec, ctx, (xy, ids, stage, done, total) =>
      this.emit({ type: 'mapFrame', jobId: ctx.jobId, model, method: params.method, stage, done, total, ids, xy }), await this.metric(model)));
  }

  async listMaps(o?: { model?: string }): Promise<MapInfo[]> {
    const all = listMaps(this.lib.db);
    return o?.model === undefined ? all : all.filter((m) => m.model === o.model);
  }

  async getMap(query: { id?: number; model?: string; method?: MapParams['method']; setting?: MapParams }): Promise<MapData> {
    return getMapData(this.lib.db, query);
  }

  async getMapField(o: MapFieldOptions): Promise<MapField> {
    return readSnapshot(this.lib.db, () => mapField(this.lib.db, o));
  }

  async searchItems(o: SearchOptions): Promise<SearchResult> {
    if (o.text !== undefined) {
      return searchByText(this.lib.db, o, async (model) => {
        const m = await this.loadMatrix(model);
        return { ids: m.ids, X: await this.normalized(m), n: m.n, d: m.d };
      });
    }
    return readSnapshot(this.lib.db, () => searchItems(this.lib.db, o));
  }
}
