// OAuthClient against the emulator (the shared cases of tests/shared/oauth.mjs).
import { nodeContext, finishNode } from './context.mjs';
import { oauthCases } from '../shared/oauth.mjs';

oauthCases(nodeContext());
finishNode();
