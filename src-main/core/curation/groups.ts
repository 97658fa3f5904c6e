/**
 * Library-level groups: a cluster the user names or curates is backed by a group of the library that keeps its name
 * and members across runs. The rules and their SQL live in the groups repository (core/store/groups.ts); this module
 * is their door for the curation, cluster and import code.
 */
export { heldGroups, importedNames, joinGroups, linkGroups, listGroups, newItems, notFaceIds, syncRunGroups, unassignedItems, type GroupRow, type HeldGroup } from '../store/groups.ts';
