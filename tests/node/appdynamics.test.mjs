// AppDynamicsClient against the emulator (the shared cases of tests/shared/appdynamics.mjs).
import { nodeContext, finishNode } from './context.mjs';
import { appdynamicsCases } from '../shared/appdynamics.mjs';

appdynamicsCases(nodeContext());
finishNode();
