/**
 * The emulated network in one import: shared layout, sizing and statistics of the NICs
 * (netdev), a host's NIC handle for its cores (nic: TX ring + RX channels), the switch worker
 * (fabric: links, egress priority queues, loss, delivery) and the NICs' RSS hash (rss).
 */
export * from './netdev.js';
export * from './nic.js';
export * from './fabric.js';
export * from './rss.js';
