/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef FENCE_GENERATOR_H
#define FENCE_GENERATOR_H

/* fencectl run as dm-fence-generator (systemd.generator(7)): see generator.c */
int fence_generator(int argc, char **argv);

#endif
