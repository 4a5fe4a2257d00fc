import type { InstanceRecord } from "../store/types.js";

/** An update of one launch's record that leaves it alone once the instance was relaunched (a new pane). */
export function sameLaunch(paneId: string, updater: (record: InstanceRecord) => InstanceRecord): (record: InstanceRecord) => InstanceRecord {
  return (record) => (record.tmux.paneId === paneId ? updater(record) : record);
}
