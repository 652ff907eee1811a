/* io/nir.h — NIR graphs (the Neuromorphic Intermediate Representation, neuromorphs/NIR,
 * Pedersen et al., Nature Communications 2024): the HDF5 layout the `nir` Python library
 * 1.0.x writes and reads (nir.write / nir.read, and so snnTorch's export_to_nir), and the
 * mapping of a graph onto evsnn's layer chain and back. Layout, node table and semantics
 * choices: io/README.md "NIR graphs".
 *
 * Two levels, kept apart:
 *   nir_read / nir_write      the file layout only: nodes with their named parameter
 *                             datasets and metadata, edges by node index. No meaning is
 *                             attached (what `evsnn nir info` prints).
 *   nir_to_net / nir_from_net the mapping: NIR nodes ↔ evsnn layers, and the continuous-time
 *                             neuron parameters ↔ the discrete engine: β = 1 − dt/τ, input
 *                             scale r·dt/τ (snnTorch's convention), reset to zero.
 * nir_write writes "<path>.tmp.<pid>" and renames it over path, so nothing half-written is
 * ever seen. Every failure is a negative EVSNN_E* with a one-line message naming the file,
 * the node (and its type) and the parameter or edge, and what was expected. */
#ifndef EVSNN_IO_NIR_H
#define EVSNN_IO_NIR_H

#include <stddef.h>
#include <stdint.h>

#include "io/model.h"
#include "sim/net.h"

#define NIR_MAX_RANK 8
#define NIR_NAME_MAX 128          /* node and parameter names, with the terminating 0 */
#define NIR_MAX_NODES 4096
#define NIR_MAX_EDGES 16384
#define NIR_MAX_ELEMS (1u << 27)  /* elements of one dataset (a 2^27-weight layer) */
#define NIR_MAX_LAYERS 64         /* spiking layers evsnn maps */
#define NIR_DEFAULT_DT 1e-4       /* s per step: what snnTorch's export_to_nir assumes */
#define NIR_LAYOUT_VERSION "1.0.7" /* /version written: the nir release whose layout is matched */

typedef enum { NIR_F32, NIR_F64, NIR_I64, NIR_STR, NIR_OTHER } nir_dtype;

/* One dataset of a node (a parameter) or of a metadata group. Numbers of any integer or
 * float width are held as double (float32 and int64 up to 2^53 exactly). */
typedef struct {
    char name[NIR_NAME_MAX];
    nir_dtype dtype;             /* as stored: float32, float64, any integer, string, other */
    int rank;                    /* 0: a scalar dataset */
    uint64_t dims[NIR_MAX_RANK];
    size_t n;                    /* elements (1 for a scalar) */
    double *v;                   /* [n] row-major values (numbers; NULL for strings/other) */
    char *s;                     /* NIR_STR: the text (scalar or one-element strings) */
} nir_param;

typedef struct {
    char name[NIR_NAME_MAX];
    char type[32];               /* "LIF", "Affine", ... as stored in <node>/type */
    nir_param *p;                /* parameter datasets, in the file's (name) order */
    uint32_t n_p;
    nir_param *meta;             /* datasets of <node>/metadata */
    uint32_t n_meta;
} nir_node;

typedef struct nir_graph {
    char version[32];            /* /version ("" when absent) */
    nir_node *nodes;
    uint32_t n_nodes, cap_nodes;
    uint32_t (*edges)[2];        /* [n_edges] source, target: indices into nodes */
    uint32_t n_edges, cap_edges;
    nir_param *meta;             /* /node/metadata */
    uint32_t n_meta;
} nir_graph;

/* ---- layout ---- */

/* Read a NIR file. NULL with *err: EVSNN_EIO (unreadable), EVSNN_EFORMAT (not NIR, a
 * malformed node or dataset, an edge naming a node that is missing), EVSNN_EVERSION
 * (/version 2 or later). Nested NIRGraph nodes are kept as nodes of type "NIRGraph"
 * without their contents. */
nir_graph *nir_read(const char *path, int *err);

/* Write g as nir.write lays it out (temporary file, then rename). 0 or EVSNN_EIO. */
int nir_write(const char *path, const nir_graph *g);

nir_graph *nir_graph_create(void);           /* empty graph, version NIR_LAYOUT_VERSION */
void nir_graph_free(nir_graph *g);           /* NULL is fine */

/* Building (export, tests): append a node (index, or negative on allocation failure), a
 * dataset to a node (or, with node < 0, to the graph's metadata; meta != 0: to the node's
 * metadata), an edge. Numbers are copied from v[n] (n = product of dims, rank 0: 1). */
int nir_add_node(nir_graph *g, const char *name, const char *type);
int nir_add_num(nir_graph *g, int node, int meta, const char *name, nir_dtype t, int rank, const uint64_t *dims,
                const double *v);
int nir_add_str(nir_graph *g, int node, int meta, const char *name, const char *s);
int nir_add_edge(nir_graph *g, uint32_t from, uint32_t to);

int nir_find_node(const nir_graph *g, const char *name);          /* index or -1 */
const nir_param *nir_get(const nir_node *nd, const char *name);   /* NULL if absent */
const nir_param *nir_get_meta(const nir_param *m, uint32_t n, const char *name);

/* Is path a NIR file (HDF5 with a group /node holding "nodes" and "edges")? 1 or 0, never
 * an error: for telling NIR graphs from evsnn model files by content. */
int nir_detect(const char *path);

/* Topological order of the nodes (Kahn; ties in file order) into order[n_nodes]. A cycle
 * fails with EVSNN_EFORMAT naming its nodes ('a' -> 'b' -> 'a'). */
int nir_topo_order(const nir_graph *g, const char *path, uint32_t *order);

/* ---- mapping ---- */

typedef struct {
    double dt;                   /* s per step; 0: the graph's evsnn_dt metadata, else NIR_DEFAULT_DT */
    const reset_mode *reset;     /* per spiking layer (a shorter list repeats its last);
                                  * NULL: evsnn's own node metadata if present, else zero */
    uint32_t n_reset;
} nir_import_opts;

typedef struct {
    double dt;                   /* the dt used */
    uint32_t n_layers;           /* spiking layers */
    struct {
        char synapse[NIR_NAME_MAX], neuron[NIR_NAME_MAX]; /* the nodes a layer came from */
        const char *reset_from;  /* "--reset", "metadata" or "default" */
    } layer[NIR_MAX_LAYERS];
    char notes[2048];            /* what was chosen or folded, one note per line */
} nir_import_report;

/* Map a graph onto an evsnn network (path only names the file in messages). meta gets
 * pool_on, spike pooling, padding, and binarized/steps/dataset from evsnn's metadata.
 * NULL with *err: EVSNN_ENOTSUP (a node type or setting evsnn has no layer for, named),
 * EVSNN_ESHAPE (shapes that do not fit, both nodes named), EVSNN_EFORMAT (missing or
 * malformed parameter, missing Input/Output, branch, dangling edge, cycle). */
net *nir_to_net(const nir_graph *g, const char *path, const nir_import_opts *o, model_meta *meta,
                nir_import_report *rep, int *err);

typedef struct {
    double dt;                   /* s per step; 0: NIR_DEFAULT_DT */
} nir_export_opts;

typedef struct {
    uint32_t n_warn;
    char warnings[2048];         /* one warning per line (reset or compare NIR cannot express) */
} nir_export_report;

/* The NIR graph of an evsnn network. NULL with *err: EVSNN_ENOTSUP naming the layer for
 * what NIR 1.0 has no node for (max pooling, OR-pooling of spikes). */
nir_graph *nir_from_net(const net *n, const model_meta *meta, const nir_export_opts *o, nir_export_report *rep,
                        int *err);

/* nir_read + nir_to_net, and nir_from_net + nir_write. */
net *nir_load(const char *path, const nir_import_opts *o, model_meta *meta, nir_import_report *rep, int *err);
int nir_save(const char *path, const net *n, const model_meta *meta, const nir_export_opts *o, nir_export_report *rep);

#endif
