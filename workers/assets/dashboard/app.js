// Entry point: routes on the path. `/` lists executions,
// `/executions/{id}` shows one execution live.

import { followCapacity } from './capacity.js';
import { showExecution } from './execution.js';
import { showList } from './list.js';

const root = document.getElementById('app');
const match = location.pathname.match(/^\/executions\/([^/]+)\/?$/);
if (match) showExecution(root, decodeURIComponent(match[1]));
else showList(root);
followCapacity(document.getElementById('capacity'));
