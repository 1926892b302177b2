"""Plotly figures and cached computations used by several pages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go


def confusion_figure(cm: dict, normalise: bool) -> go.Figure:
    counts = np.array([[cm["tn"], cm["fp"]], [cm["fn"], cm["tp"]]], dtype=float)
    rates = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    z = rates if normalise else counts
    text = [
        [
            f"{'TN' if (i, j) == (0, 0) else 'FP' if (i, j) == (0, 1) else 'FN' if (i, j) == (1, 0) else 'TP'}<br>"
            f"{int(counts[i, j]):,}<br>{rates[i, j]:.1%}"
            for j in range(2)
        ]
        for i in range(2)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=["negative", "positive"],
            y=["negative", "positive"],
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            showscale=False,
            hovertemplate="true %{y}, predicted %{x}<br>%{text}<extra></extra>",
        )
    )
    fig.update_layout(
        xaxis_title="predicted",
        yaxis_title="true label",
        yaxis_autorange="reversed",
        height=360,
        margin=dict(l=10, r=10, t=10, b=10),
        font=dict(size=14),
    )
    return fig


def roc_figure(c: dict, cm: dict, thr: float) -> tuple[go.Figure, go.Figure]:
    """ROC and precision-recall curves (``c``: binned curves, a few hundred points whatever the run's size)
    with the point of the current threshold (``cm``: its exact confusion counts)."""
    tp, fp, fn, tn = cm["tp"], cm["fp"], cm["fn"], cm["tn"]
    tpr, fpr = tp / max(tp + fn, 1), fp / max(fp + tn, 1)
    prec, rec = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    roc = go.Figure(go.Scatter(x=c["roc"]["fpr"], y=c["roc"]["tpr"], mode="lines", name="ROC"))
    roc.add_trace(
        go.Scatter(x=[fpr], y=[tpr], mode="markers", marker=dict(size=12, color="#dc2626"), name=f"threshold {thr:.2f}")
    )
    roc.add_shape(type="line", x0=0, y0=0, x1=1, y1=1, line=dict(dash="dot", color="#999"))
    roc.update_layout(
        title="ROC",
        xaxis_title="false positive rate",
        yaxis_title="true positive rate",
        height=340,
        margin=dict(l=10, r=10, t=40, b=10),
        showlegend=False,
    )
    pr = go.Figure(go.Scatter(x=c["pr"]["recall"], y=c["pr"]["precision"], mode="lines", name="PR"))
    pr.add_trace(
        go.Scatter(
            x=[rec], y=[prec], mode="markers", marker=dict(size=12, color="#dc2626"), name=f"threshold {thr:.2f}"
        )
    )
    pr.update_layout(
        title="Precision-recall",
        xaxis_title="recall",
        yaxis_title="precision",
        height=340,
        margin=dict(l=10, r=10, t=40, b=10),
        showlegend=False,
    )
    return roc, pr


def reliability_figure(table: pd.DataFrame, ece: float) -> go.Figure:
    fig = go.Figure(
        go.Bar(
            x=(table["bin_low"] + table["bin_high"]) / 2,
            y=table["accuracy"],
            width=(table["bin_high"] - table["bin_low"]) * 0.9,
            name="accuracy",
            customdata=table["count"],
            hovertemplate="confidence %{x:.3f}<br>accuracy %{y:.3f}<br>%{customdata} reviews<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[0.5, 1], y=[0.5, 1], mode="lines", line=dict(dash="dot", color="#999"), name="perfect calibration"
        )
    )
    fig.update_layout(
        title=f"Reliability (ECE {ece:.4f}, 15 bins)",
        xaxis_title="confidence of predicted class",
        yaxis_title="accuracy",
        height=340,
        margin=dict(l=10, r=10, t=40, b=10),
        yaxis_range=[0, 1.02],
        showlegend=False,
    )
    return fig
