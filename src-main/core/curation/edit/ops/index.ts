/**
 * Every edit op's module, by its type: the compiler checks that each EditOp of the contract has exactly one. Adding an
 * op: its type and schema in the contract (common/types.ts, common/schemas.ts), its module here.
 */
import type { EditOp } from '../../../../common/types.ts';
import type { OpModule } from './op.ts';
import accept from './accept.ts';
import assign from './assign.ts';
import confirm from './confirm.ts';
import dedupe from './dedupe.ts';
import forgetDecisions from './forget-decisions.ts';
import merge from './merge.ts';
import move from './move.ts';
import names from './names.ts';
import notFace from './not-face.ts';
import notSame from './not-same.ts';
import person from './person.ts';
import reject from './reject.ts';
import rejectSuggestions from './reject-suggestions.ts';
import recluster from './recluster.ts';
import rename from './rename.ts';
import splitParts from './split-parts.ts';
import split from './split.ts';

export const OPS: { [T in EditOp['type']]: OpModule<T> } = {
  rename, accept, merge, split, move, reject, names, dedupe, assign, person, confirm,
  'reject-suggestions': rejectSuggestions, 'not-same': notSame, 'split-parts': splitParts, 'not-face': notFace,
  'forget-decisions': forgetDecisions, recluster,
};

export function opModule(type: string): OpModule<EditOp['type']> | undefined {
  return Object.hasOwn(OPS, type) ? (OPS[type as EditOp['type']] as unknown as OpModule<EditOp['type']>) : undefined;
}
