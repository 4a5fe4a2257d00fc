export { runStoreContract, contractMessage, contractRecord, type StoreContractSubject } from "./contract.js";
export { childProcessPeer, inProcessPeer, runPeerCommand, servePeer, type PeerCommand, type StorePeer } from "./peer.js";
