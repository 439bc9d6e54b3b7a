// Every room endpoint, for main.ts.
import type { Rooms } from '../../rooms/roomsModule.js';
import { roomCreationRoutes } from './roomCreation.js';
import { roomDirectoryRoutes } from './roomDirectory.js';
import { roomEventRoutes } from './roomEvents.js';
import { roomMembershipRoutes } from './roomMembership.js';
import { roomReadRoutes } from './roomReads.js';

export function roomRoutes(rooms: Rooms) {
  return [
    ...roomCreationRoutes(rooms.creator),
    ...roomMembershipRoutes(rooms.membership),
    ...roomEventRoutes(rooms.events),
    ...roomReadRoutes(rooms.queries),
    ...roomDirectoryRoutes(rooms.aliases),
  ];
}
