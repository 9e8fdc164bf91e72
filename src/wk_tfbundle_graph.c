/*
** wk_tfbundle_graph.c — decoding the TrackableObjectGraph stored in a checkpoint's
** _CHECKPOINTABLE_OBJECT_GRAPH string (keras-formats.md §5.5).
**
** PROTO FACTS. TrackableObjectGraph: 1 nodes repeated TrackableObject. TrackableObject:
** 1 children repeated ObjectReference {1 node_id int32, 2 local_name string}; 2 attributes
** repeated SerializedTensor {1 name, 2 full_name, 3 checkpoint_key strings, 4 optional_restore
** bool}; 3 slot_variables repeated SlotVariableReference {1 original_variable_node_id int32,
** 2 slot_name string, 3 slot_variable_node_id int32}; 4 registered_saver and
** 5 has_checkpoint_values are not needed and skipped like unknown fields. Node 0 is the root.
**
** Two passes over each message: count, allocate exactly (arena), fill. Every node id must name a
** node of the graph. Strings are copied into the arena (NUL-terminated; a NUL inside a name
** cuts it there).
*/
#include <stdio.h>

#include "wk_internal.h"
#include "wk_proto.h"
#include "wk_tfbundle.h"

typedef struct graph_ctx {
  wk__arena *arena;
  const char *name;
  size_t node_count;
  wk_error *err;
} graph_ctx;

static wk_status bad(graph_ctx *g, size_t node, const char *why) {
  return wk__error_set(g->err, WK_EFORMAT, "%s: key _CHECKPOINTABLE_OBJECT_GRAPH: node %zu: %s", g->name, node, why);
}

static wk_status node_id(graph_ctx *g, size_t node, uint64_t v, int32_t *out) {
  int32_t id;
  if (!wk__pb_as_int32(v, &id) || id < 0 || (size_t)id >= g->node_count)
    return bad(g, node, "node id out of range");
  *out = id;
  return WK_OK;
}

static const char *str(graph_ctx *g, const wk__pb_field *fd) {
  return wk__arena_strndup(g->arena, (const char *)fd->data, fd->len);
}

#define NOMEM(g) wk__error_set((g)->err, WK_ENOMEM, "%s: out of memory", (g)->name)

/* One ObjectReference / SerializedTensor / SlotVariableReference message into its struct. */
static wk_status decode_item(graph_ctx *g, size_t node, int kind, const unsigned char *p, size_t len, void *out) {
  wk__pb r = wk__pb_init(p, len);
  wk__pb_field fd;
  const char *why = NULL;
  int rc;
  wk_status st = WK_OK;
  wk_ckpt_child *c = (wk_ckpt_child *)out;
  wk_ckpt_attribute *a = (wk_ckpt_attribute *)out;
  wk_ckpt_slot *s = (wk_ckpt_slot *)out;
  const char **text = NULL;
  if (kind == 1) c->local_name = "";
  if (kind == 2) a->name = a->full_name = a->checkpoint_key = "";
  if (kind == 3) s->slot_name = "";
  while ((rc = wk__pb_next(&r, &fd, &why)) > 0) {
    text = NULL;
    if (kind == 1) {
      if (fd.number == 1 && fd.wire == 0) st = node_id(g, node, fd.value, &c->node_id);
      else if (fd.number == 2 && fd.wire == 2) text = &c->local_name;
    } else if (kind == 2) {
      if (fd.number == 1 && fd.wire == 2) text = &a->name;
      else if (fd.number == 2 && fd.wire == 2) text = &a->full_name;
      else if (fd.number == 3 && fd.wire == 2) text = &a->checkpoint_key;
      else if (fd.number == 4 && fd.wire == 0) a->optional_restore = fd.value != 0;
    } else {
      if (fd.number == 1 && fd.wire == 0) st = node_id(g, node, fd.value, &s->original_variable_node_id);
      else if (fd.number == 2 && fd.wire == 2) text = &s->slot_name;
      else if (fd.number == 3 && fd.wire == 0) st = node_id(g, node, fd.value, &s->slot_variable_node_id);
    }
    if (st != WK_OK) return st;
    if (text != NULL && (*text = str(g, &fd)) == NULL) return NOMEM(g);
  }
  if (rc < 0) return bad(g, node, why);
  return WK_OK;
}

static wk_status decode_node(graph_ctx *g, size_t index, const unsigned char *p, size_t len, wk_ckpt_node *n) {
  wk__pb r = wk__pb_init(p, len);
  wk__pb_field fd;
  const char *why = NULL;
  int rc;
  size_t counts[4] = {0, 0, 0, 0}, at[4] = {0, 0, 0, 0};
  wk_ckpt_child *children;
  wk_ckpt_attribute *attributes;
  wk_ckpt_slot *slots;
  wk_status st;
  while ((rc = wk__pb_next(&r, &fd, &why)) > 0)
    if (fd.number >= 1 && fd.number <= 3 && fd.wire == 2) counts[fd.number]++;
  if (rc < 0) return bad(g, index, why);
  children = (wk_ckpt_child *)wk__arena_calloc(g->arena, counts[1], sizeof *children);
  attributes = (wk_ckpt_attribute *)wk__arena_calloc(g->arena, counts[2], sizeof *attributes);
  slots = (wk_ckpt_slot *)wk__arena_calloc(g->arena, counts[3], sizeof *slots);
  if (children == NULL || attributes == NULL || slots == NULL) return NOMEM(g);
  r = wk__pb_init(p, len);
  while (wk__pb_next(&r, &fd, &why) > 0) {
    if (fd.number < 1 || fd.number > 3 || fd.wire != 2) continue;
    st = decode_item(g, index, (int)fd.number, fd.data, fd.len,
                     fd.number == 1 ? (void *)&children[at[1]] : fd.number == 2 ? (void *)&attributes[at[2]]
                                                                                : (void *)&slots[at[3]]);
    if (st != WK_OK) return st;
    at[fd.number]++;
  }
  n->child_count = counts[1];
  n->children = counts[1] ? children : NULL;
  n->attribute_count = counts[2];
  n->attributes = counts[2] ? attributes : NULL;
  n->slot_count = counts[3];
  n->slots = counts[3] ? slots : NULL;
  return WK_OK;
}

wk_status wk__tf_graph_decode(wk__arena *arena, const unsigned char *data, size_t size, const char *name,
                              wk_ckpt_node **nodes, size_t *count, wk_error *err) {
  graph_ctx g;
  wk__pb r = wk__pb_init(data, size);
  wk__pb_field fd;
  const char *why = NULL;
  int rc;
  size_t n = 0, i = 0;
  wk_ckpt_node *out;
  g.arena = arena;
  g.name = name;
  g.err = err;
  while ((rc = wk__pb_next(&r, &fd, &why)) > 0)
    if (fd.number == 1 && fd.wire == 2) n++;
  if (rc < 0)
    return wk__error_set(err, WK_EFORMAT, "%s: key _CHECKPOINTABLE_OBJECT_GRAPH: corrupt object graph: %s", name, why);
  g.node_count = n;
  out = (wk_ckpt_node *)wk__arena_calloc(arena, n, sizeof *out);
  if (out == NULL) return NOMEM(&g);
  r = wk__pb_init(data, size);
  while (wk__pb_next(&r, &fd, &why) > 0) {
    wk_status st;
    if (fd.number != 1 || fd.wire != 2) continue;
    st = decode_node(&g, i, fd.data, fd.len, &out[i]);
    if (st != WK_OK) return st;
    i++;
  }
  *nodes = out;
  *count = n;
  return WK_OK;
}
