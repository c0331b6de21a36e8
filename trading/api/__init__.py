"""REST API (DRF): serializers, filters, viewsets."""
